using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// Formats a key's remaining limits as response headers (docs/limits-and-prices.md). Anthropic's form: <c>anthropic-ratelimit-{requests,tokens,
/// input-tokens,output-tokens}-{limit,remaining,reset}</c> with the reset in RFC 3339; OpenAI's form:
/// <c>x-ratelimit-{limit,remaining,reset}-{requests,tokens}</c> with the reset as a duration (<c>37s</c>, <c>1m0s</c>).
/// Remaining counts are exact (Anthropic rounds tokens to thousands; a gateway has no reason to). The spend cap and
/// stream slots, which neither API has, go in <c>x-qhaigc-spend-*</c> and <c>x-qhaigc-streams-*</c>. It fills any
/// header map, so governance stays free of HTTP; the API layer hands it the response's headers.
/// </summary>
public static class RateLimitHeaders
{
    public const string AnthropicPrefix = "anthropic-ratelimit-";
    public const string SpendLimit = "x-qhaigc-spend-limit";
    public const string SpendRemaining = "x-qhaigc-spend-remaining";
    public const string SpendReset = "x-qhaigc-spend-reset";
    public const string StreamsLimit = "x-qhaigc-streams-limit";
    public const string StreamsRemaining = "x-qhaigc-streams-remaining";

    public static void Write(IDictionary<string, StringValues> headers, RateLimitHeaderFormat format, RateLimitStatus status)
    {
        var (limits, usage, windowStart, now, stream) = status;
        var reset = windowStart + AdmissionPolicy.Window;
        if (format == RateLimitHeaderFormat.Anthropic)
        {
            Anthropic(headers, "requests", limits.RequestsPerMinute, usage.Requests, reset);
            Anthropic(headers, "tokens", limits.TokensPerMinute, usage.Tokens, reset);
            Anthropic(headers, "input-tokens", limits.InputTokensPerMinute, usage.InputTokens, reset);
            Anthropic(headers, "output-tokens", limits.OutputTokensPerMinute, usage.OutputTokens, reset);
        }
        else
        {
            OpenAi(headers, "requests", limits.RequestsPerMinute, usage.Requests, reset - now);
            OpenAi(headers, "tokens", limits.TokensPerMinute, usage.Tokens, reset - now);
        }

        if (limits.SpendCapMicros is { } cap)
        {
            headers[SpendLimit] = Amount(cap);
            headers[SpendRemaining] = Amount(Math.Max(0, cap - usage.SpentMicros - usage.ReservedMicros));
            if (SpendPeriods.End(limits.SpendPeriod, now) is { } end)
            {
                headers[SpendReset] = Rfc3339(end);
            }
        }

        if (stream && limits.ConcurrentStreams is { } streams)
        {
            headers[StreamsLimit] = Number(streams);
            headers[StreamsRemaining] = Number(Math.Max(0, streams - usage.ActiveStreams));
        }
    }

    /// <summary>OpenAI's duration form: <c>850ms</c>, <c>37s</c>, <c>1m0s</c>.</summary>
    public static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.FromSeconds(1))
        {
            return Number((long)Math.Max(0, Math.Ceiling(span.TotalMilliseconds))) + "ms";
        }

        var seconds = (long)Math.Ceiling(span.TotalSeconds);
        return seconds < 60 ? Number(seconds) + "s" : Number(seconds / 60) + "m" + Number(seconds % 60) + "s";
    }

    public static string Rfc3339(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Amount(long micros) => Money.FromMicros(micros).ToString("0.######", CultureInfo.InvariantCulture);

    private static void Anthropic(IDictionary<string, StringValues> headers, string name, long? limit, long used, DateTimeOffset reset)
    {
        if (limit is not { } value)
        {
            return;
        }

        headers[AnthropicPrefix + name + "-limit"] = Number(value);
        headers[AnthropicPrefix + name + "-remaining"] = Number(Math.Max(0, value - used));
        headers[AnthropicPrefix + name + "-reset"] = Rfc3339(reset);
    }

    private static void OpenAi(IDictionary<string, StringValues> headers, string name, long? limit, long used, TimeSpan untilReset)
    {
        if (limit is not { } value)
        {
            return;
        }

        headers["x-ratelimit-limit-" + name] = Number(value);
        headers["x-ratelimit-remaining-" + name] = Number(Math.Max(0, value - used));
        headers["x-ratelimit-reset-" + name] = Duration(untilReset);
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
