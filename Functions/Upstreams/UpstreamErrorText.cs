using System.Text.RegularExpressions;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// What of an upstream's error message must not reach a tenant: the operator's own account identifiers. Anthropic's
/// rate-limit messages name the organization by its UUID ("…the rate limit for your organization (1f3c…) of…"), and
/// OpenAI's name it as <c>org-…</c>; every tenant of the gateway shares that account, so it is masked, and nothing else
/// of the wording changes (docs/faults.md).
/// </summary>
public static partial class UpstreamErrorText
{
    /// <summary>What an identifier is replaced with.</summary>
    public const string Masked = "[account]";

    /// <summary>The error an upstream's SSE <c>error</c> event carries, identifiers masked.</summary>
    public static Protocol.ApiError FromErrorEvent(ReadOnlySpan<byte> data)
    {
        var error = Protocol.ApiError.FromErrorEvent(data);
        var masked = MaskAccountIds(error.Message);
        return ReferenceEquals(masked, error.Message) ? error : error with { Message = masked };
    }

    public static string MaskAccountIds(string message) =>
        message.Contains('-', StringComparison.Ordinal) ? AccountId().Replace(message, Masked) : message;

    [GeneratedRegex(@"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b|\b(?:org|proj|user|acct)-[A-Za-z0-9_]{8,}\b",
        RegexOptions.CultureInvariant)]
    private static partial Regex AccountId();
}
