namespace Qhaigc.Functions.Batches;

/// <summary>
/// <c>Gateway:Batches</c>, as batch billing reads it (docs/batches.md#billing, docs/configuration.md): when ended
/// batches are settled, and how long a batch's reservation holds.
/// </summary>
public sealed class BatchSettlementOptions
{
    public const string SectionName = "Gateway:Batches";

    /// <summary>The Functions host's name for <see cref="SettleSchedule"/> in the timer trigger's <c>%…%</c> expression.</summary>
    public const string SettleScheduleSetting = "Gateway:Batches:SettleSchedule";

    /// <summary>Every minute, at second 0.</summary>
    public const string DefaultSettleSchedule = "0 * * * * *";

    /// <summary>
    /// When settlement looks for ended batches: a six-field NCRONTAB expression (second minute hour day month
    /// day-of-week, UTC), as the Functions timer trigger takes it; the standalone mode runs on the same schedule.
    /// </summary>
    public string SettleSchedule { get; set; } = DefaultSettleSchedule;

    /// <summary>
    /// How long a batch's reservation holds before the limit ledger may sweep it as abandoned: well beyond a batch's
    /// 24 hours of processing, as long as Anthropic keeps its results (29 days), so that only a settlement that could
    /// not run for that long gives it back unsettled.
    /// </summary>
    public TimeSpan HoldDuration { get; set; } = TimeSpan.FromDays(29);

    /// <summary>
    /// How long the upstream must keep answering that it does not know a batch before the batch is billed as gone (its
    /// whole reservation): one answer could come from a passing fault or from a key of another workspace put in by
    /// mistake, and billing the worst case for it could not be undone (docs/batches.md#billing).
    /// </summary>
    public TimeSpan GoneAfter { get; set; } = TimeSpan.FromHours(24);
}
