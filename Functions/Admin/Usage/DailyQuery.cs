namespace Qhaigc.Functions.Admin.Usage;

/// <summary>The days (both included) and filters of a daily usage report, as its query gives them.</summary>
public sealed record DailyQuery(DateOnly From, DateOnly To, string? KeyId, string? Model);
