using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Upstreams;

/// <summary>A model provider the gateway forwards Claude-format calls to.</summary>
public interface IUpstream
{
    /// <summary>The configured name (<c>Gateway:Upstreams:{name}</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Sends a validated Messages request under the upstream's own model name and credentials; the time spent waiting
    /// on the upstream is charged to <paramref name="waits"/>, the call's clock (docs/architecture.md, "Timing").
    /// </summary>
    Task<UpstreamResponse> SendMessagesAsync(MessagesRequest request, string upstreamModel, WaitClock? waits, CancellationToken cancellationToken);
}
