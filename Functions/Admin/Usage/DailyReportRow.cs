using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Admin.Usage;

/// <summary>One key's usage of one model on one UTC day (docs/console.md#daily-usage).</summary>
public sealed record DailyReportRow
{
    public required string Date { get; init; }

    public required string KeyId { get; init; }

    public required string Model { get; init; }

    public long Calls { get; init; }

    /// <summary>Calls answered with a status of 400 or more, or that ended <c>failed</c> or <c>truncated</c>.</summary>
    public long Errors { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public long CacheCreation5mInputTokens { get; init; }

    public long CacheCreation1hInputTokens { get; init; }

    public long CacheReadInputTokens { get; init; }

    public long WebSearchRequests { get; init; }

    public long WebFetchRequests { get; init; }

    /// <summary>In <see cref="Currency"/> units, exact to the micro-unit.</summary>
    public decimal Cost { get; init; }

    /// <summary>The report's currency, or the one these calls were priced in when the operator changed it since.</summary>
    public required string Currency { get; init; }

    /// <summary>Calls whose model had no price: counted, not costed.</summary>
    public long UnpricedCalls { get; init; }

    /// <summary>Calls whose numbers are partly the gateway's estimate.</summary>
    public long EstimatedCalls { get; init; }

    public static DailyReportRow From(DailyUsage day) => new()
    {
        Date = day.Day,
        KeyId = day.KeyId,
        Model = day.Model,
        Currency = day.Currency,
        Calls = day.Calls,
        Errors = day.Errors,
        InputTokens = day.InputTokens,
        OutputTokens = day.OutputTokens,
        CacheCreation5mInputTokens = day.CacheWrite5mTokens,
        CacheCreation1hInputTokens = day.CacheWrite1hTokens,
        CacheReadInputTokens = day.CacheReadTokens,
        WebSearchRequests = day.WebSearchRequests,
        WebFetchRequests = day.WebFetchRequests,
        Cost = Money.FromMicros(day.CostMicros),
        UnpricedCalls = day.UnpricedCalls,
        EstimatedCalls = day.EstimatedCalls,
    };
}
