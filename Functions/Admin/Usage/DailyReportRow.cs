namespace Qhaigc.Functions.Admin.Usage;

/// <summary>One key's usage of one model on one UTC day (docs/console.md#daily-usage).</summary>
public sealed record DailyReportRow
{
    public required string Date { get; init; }

    public required string KeyId { get; init; }

    public required string Model { get; init; }

    public long Calls { get; set; }

    /// <summary>Calls answered with a status of 400 or more, or that ended <c>failed</c> or <c>truncated</c>.</summary>
    public long Errors { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public long CacheCreation5mInputTokens { get; set; }

    public long CacheCreation1hInputTokens { get; set; }

    public long CacheReadInputTokens { get; set; }

    public long WebSearchRequests { get; set; }

    public long WebFetchRequests { get; set; }

    /// <summary>In <see cref="Currency"/> units, exact to the micro-unit.</summary>
    public decimal Cost { get; set; }

    /// <summary>The report's currency, or the one these calls were priced in when the operator changed it since.</summary>
    public required string Currency { get; init; }

    /// <summary>Calls whose model had no price: counted, not costed.</summary>
    public long UnpricedCalls { get; set; }

    /// <summary>Calls whose numbers are partly the gateway's estimate.</summary>
    public long EstimatedCalls { get; set; }
}
