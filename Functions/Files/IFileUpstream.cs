using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Files;

/// <summary>An upstream that can hold files: Anthropic's API, or the built-in <c>local</c> upstream (docs/files.md).</summary>
public interface IFileUpstream : IUpstream
{
    /// <summary>The upstream's Files API; null when this one cannot hold files (a <c>local</c> upstream without blob storage).</summary>
    IUpstreamFiles? Files { get; }
}
