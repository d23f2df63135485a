using System.Globalization;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// What an upstream's last answer said about its rate limits in Anthropic's <c>anthropic-ratelimit-*</c> headers
/// (https://docs.anthropic.com/en/api/rate-limits#response-headers): requests and tokens remaining, and when each
/// limit resets. A limit used up (remaining 0) until a reset still to come makes that deployment skip that model until
/// then (docs/faults.md#health).
/// </summary>
public sealed record RateLimitHeadroom(
    DateTimeOffset ReportedAt,
    long? RequestsRemaining,
    DateTimeOffset? RequestsReset,
    long? TokensRemaining,
    DateTimeOffset? TokensReset,
    long? InputTokensRemaining,
    DateTimeOffset? InputTokensReset,
    long? OutputTokensRemaining,
    DateTimeOffset? OutputTokensReset)
{
    /// <summary>Longest an answer's headers can rest a model, whatever reset they name (a clock far off cannot rest it for long).</summary>
    public static readonly TimeSpan MaxRest = TimeSpan.FromMinutes(1);

    private const string Prefix = "anthropic-ratelimit-";

    /// <summary>The headroom an answer reported, or null when it sent none of the headers.</summary>
    public static RateLimitHeadroom? Read(HttpResponseMessage response, DateTimeOffset now)
    {
        var headers = response.Headers;
        var requests = Remaining(headers, Prefix + "requests-remaining");
        var tokens = Remaining(headers, Prefix + "tokens-remaining");
        var input = Remaining(headers, Prefix + "input-tokens-remaining");
        var output = Remaining(headers, Prefix + "output-tokens-remaining");
        if (requests is null && tokens is null && input is null && output is null)
        {
            return null;
        }

        return new RateLimitHeadroom(now,
            requests, Reset(headers, Prefix + "requests-reset"),
            tokens, Reset(headers, Prefix + "tokens-reset"),
            input, Reset(headers, Prefix + "input-tokens-reset"),
            output, Reset(headers, Prefix + "output-tokens-reset"));
    }

    /// <summary>When the first limit that is used up resets (the latest of them, within <see cref="MaxRest"/>), or null when none is.</summary>
    public DateTimeOffset? UsedUpUntil(DateTimeOffset now)
    {
        DateTimeOffset? until = null;
        Consider(RequestsRemaining, RequestsReset);
        Consider(TokensRemaining, TokensReset);
        Consider(InputTokensRemaining, InputTokensReset);
        Consider(OutputTokensRemaining, OutputTokensReset);
        return until;

        void Consider(long? remaining, DateTimeOffset? reset)
        {
            if (remaining is <= 0 && reset is { } at && at > now)
            {
                var capped = at - now > MaxRest ? now + MaxRest : at;
                until = until is { } known && known > capped ? known : capped;
            }
        }
    }

    private static long? Remaining(System.Net.Http.Headers.HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) &&
        long.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    private static DateTimeOffset? Reset(System.Net.Http.Headers.HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) &&
        DateTimeOffset.TryParse(values.FirstOrDefault(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)
            ? value
            : null;
}
