namespace Qhaigc.Functions.Usage;

/// <summary>One page of a key's usage records and where the next page starts (null: there is none).</summary>
public sealed record UsagePage(IReadOnlyList<UsageRecord> Records, string? ContinuationToken);
