namespace Qhaigc.Functions.Hosting;

/// <summary><c>Gateway:Limits</c>: how per-key limits and spend caps are enforced across instances.</summary>
public sealed class LimitsOptions
{
    /// <summary>
    /// How long a call's reservation (its request, token estimate, worst-case cost and stream slot) is held without a
    /// renewal. A running call renews it every third of this time, so only a crashed instance's reservations lapse,
    /// and they stop counting this long after its last renewal.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Input token estimates (a tokenizer that is not Claude's) are multiplied by this before they are reserved, so
    /// that a spend cap holds even when the upstream counts more tokens than the estimate.
    /// </summary>
    public double InputEstimateMargin { get; set; } = 1.25;

    /// <summary>Attempts of one optimistic (ETag) update when other instances change the same counters.</summary>
    public int MaxConflictRetries { get; set; } = 40;

    /// <summary>Attempts to settle a finished call's reservation before it is logged as lost.</summary>
    public int SettleAttempts { get; set; } = 8;
}
