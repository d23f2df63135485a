using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// Which client headers reach an Anthropic-format upstream (docs/wire-contract.md#32-anthropic-beta). An allow-list: <c>anthropic-*</c> only.
/// The client's credentials, <c>x-stainless-*</c>, <c>host</c> and hop-by-hop headers never do; the upstream gets its
/// own key. Version and beta are carried separately, so exactly one value of each is sent.
/// </summary>
public static class HeaderPolicy
{
    /// <summary>Never forwarded, even if a future rule allowed their prefix.</summary>
    public static readonly FrozenSet<string> Blocked = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
    [
        HeaderNames.ApiKey, HeaderNames.Authorization, "host", "connection", "keep-alive", "proxy-connection",
        "proxy-authorization", "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade", "cookie",
        "content-length", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto",
    ]);

    private const string AnthropicPrefix = "anthropic-";

    /// <summary>True for client headers that are copied to Anthropic-format upstreams as they are.</summary>
    public static bool ForwardsToAnthropic(string name) =>
        name.StartsWith(AnthropicPrefix, StringComparison.OrdinalIgnoreCase) &&
        !name.Equals(HeaderNames.AnthropicVersion, StringComparison.OrdinalIgnoreCase) &&
        !name.Equals(HeaderNames.AnthropicBeta, StringComparison.OrdinalIgnoreCase) &&
        !Blocked.Contains(name);

    /// <summary>
    /// The client's <c>anthropic-*</c> headers other than version and beta. A header the client names in its
    /// <c>Connection</c> header is hop-by-hop (RFC 9110 §7.6.1) and stays here, whatever its name.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ExtraAnthropicHeaders(IHeaderDictionary headers)
    {
        List<KeyValuePair<string, string>>? extra = null;
        var connection = headers.Connection;
        foreach (var header in headers)
        {
            if (ForwardsToAnthropic(header.Key) && !NamedIn(connection, header.Key))
            {
                (extra ??= []).Add(new(header.Key.ToLowerInvariant(), header.Value.ToString()));
            }
        }

        return extra ?? (IReadOnlyList<KeyValuePair<string, string>>)[];
    }

    private static bool NamedIn(Microsoft.Extensions.Primitives.StringValues connection, string name)
    {
        foreach (var value in connection)
        {
            foreach (var token in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (token.Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// The client headers an operator keeps from one upstream (<c>Gateway:Upstreams:{name}:DropHeaders</c>, comma-separated,
    /// docs/configuration.md#settings): <c>anthropic-*</c> names other than <c>anthropic-version</c>, which the upstream needs.
    /// </summary>
    public static FrozenSet<string> DropList(string? setting) =>
        (setting ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Null when every name in a <c>DropHeaders</c> setting may be dropped; otherwise the first that may not.</summary>
    public static string? InvalidDrop(string? setting) => DropList(setting).FirstOrDefault(static name =>
        !name.StartsWith(AnthropicPrefix, StringComparison.OrdinalIgnoreCase) || name.Equals(HeaderNames.AnthropicVersion, StringComparison.OrdinalIgnoreCase));

    /// <summary>Joins repeated <c>anthropic-beta</c> headers with commas (docs/wire-contract.md#32-anthropic-beta); null when none.</summary>
    public static string? JoinBetas(IHeaderDictionary headers)
    {
        var values = headers[HeaderNames.AnthropicBeta];
        if (values.Count == 0)
        {
            return null;
        }

        var joined = string.Join(',', values.SelectMany(static v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
        return joined.Length == 0 ? null : joined;
    }

    /// <summary>Keeps only allowed betas, for hosts that reject unknown ones; null allow-list keeps all.</summary>
    public static string? FilterBetas(string? betas, IReadOnlyCollection<string>? allowList)
    {
        if (betas is null || allowList is null)
        {
            return betas;
        }

        var kept = betas.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(beta => allowList.Contains(beta, StringComparer.OrdinalIgnoreCase));
        var joined = string.Join(',', kept);
        return joined.Length == 0 ? null : joined;
    }
}
