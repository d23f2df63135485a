using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Files;

/// <summary>
/// The client's <c>anthropic-*</c> headers for a file operation, sent to an Anthropic upstream under the same rules as a
/// Messages call (docs/wire-contract.md#32-anthropic-beta): the version, the betas as sent (<c>files-api-2025-04-14</c>),
/// the others.
/// </summary>
public sealed record FileCallHeaders(string AnthropicVersion, string? Betas, IReadOnlyList<KeyValuePair<string, string>> Extra)
{
    public static FileCallHeaders Of(HttpRequest request, string version) =>
        new(version, HeaderPolicy.JoinBetas(request.Headers), HeaderPolicy.ExtraAnthropicHeaders(request.Headers));

    /// <summary>What the operator's own calls send (<c>/manage</c>): the default version and the Files API beta.</summary>
    public static FileCallHeaders Operator { get; } = new(AnthropicVersions.Default, FilesBeta, []);

    /// <summary>The beta Anthropic's Files API is behind.</summary>
    public const string FilesBeta = "files-api-2025-04-14";
}
