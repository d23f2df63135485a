using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// The client's <c>anthropic-*</c> headers that go with a batch call to the upstream, as they go with a Messages call
/// (docs/wire-contract.md#3-headers): the version, the betas joined, and the others.
/// </summary>
public sealed record BatchCallHeaders(string Version, string? Beta, IReadOnlyList<KeyValuePair<string, string>> Extra)
{
    /// <summary>What the gateway sends on its own behalf (settlement): the default version and nothing else.</summary>
    public static BatchCallHeaders Gateway { get; } = new(AnthropicVersions.Default, null, []);

    public static BatchCallHeaders Of(HttpRequest request, string version) =>
        new(version, HeaderPolicy.JoinBetas(request.Headers), HeaderPolicy.ExtraAnthropicHeaders(request.Headers));
}
