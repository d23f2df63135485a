namespace Qhaigc.Functions.Admin.Usage;

/// <summary>
/// <c>GET /manage/usage/daily</c> and <c>GET /v1/gateway/key/usage/daily</c> (docs/console.md#daily-usage): usage per
/// UTC day, key and model over the days [<see cref="From"/>, <see cref="To"/>], both included, read from the daily
/// aggregates.
/// </summary>
public sealed record DailyReport
{
    public required string From { get; init; }

    public required string To { get; init; }

    /// <summary>The gateway's price currency (<c>Gateway:Prices:Currency</c>), the one every <c>cost</c> is in unless its row says another.</summary>
    public required string Currency { get; init; }

    /// <summary>By day, key and model.</summary>
    public required IReadOnlyList<DailyReportRow> Days { get; init; }
}
