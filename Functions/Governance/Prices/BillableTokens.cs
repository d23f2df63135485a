using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// A call's billable quantities by price kind: tokens, and the server-tool uses the upstream reports. Anthropic reports
/// cache writes as one total with an optional 5-minute / 1-hour split; without a split every cache write is a 5-minute
/// write (Anthropic's default TTL), and a split that does not add up to the total puts the rest on the 5-minute price
/// too. Statements and costs both use this one mapping.
/// </summary>
public readonly record struct BillableTokens(
    long Input, long Output, long CacheWrite5m, long CacheWrite1h, long CacheRead, long WebSearches = 0, long WebFetches = 0)
{
    /// <summary>Input tokens as rate limits count them: uncached input and cache writes (cache reads are not counted, as at Anthropic).</summary>
    public long RateLimitedInput => Input + CacheWrite5m + CacheWrite1h;

    /// <summary>The prompt's whole length, cache reads included: what a long-context premium is decided on.</summary>
    public long Prompt => Input + CacheWrite5m + CacheWrite1h + CacheRead;

    public static BillableTokens From(UsageRecord record)
    {
        var oneHour = Math.Max(0, record.CacheCreation1hInputTokens ?? 0);
        var fiveMinutes = Math.Max(Math.Max(0, record.CacheCreation5mInputTokens ?? 0), record.CacheCreationInputTokens - oneHour);
        return new BillableTokens(
            Math.Max(0, record.InputTokens),
            Math.Max(0, record.OutputTokens),
            Math.Max(0, fiveMinutes),
            oneHour,
            Math.Max(0, record.CacheReadInputTokens),
            Math.Max(0, record.WebSearchRequests ?? 0),
            Math.Max(0, record.WebFetchRequests ?? 0));
    }
}
