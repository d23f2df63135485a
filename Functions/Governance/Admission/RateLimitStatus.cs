namespace Qhaigc.Functions.Governance;

/// <summary>
/// What a call's rate-limit headers report: the key's limits, its counters after the call was added (admitted) or as
/// they stood (refused), the minute window they count in, when the admission was decided, and whether the call
/// streams (stream slots are reported only to streaming calls). The header names and formats are in
/// <see cref="RateLimitHeaders"/>; docs/limits-and-prices.md describes them.
/// </summary>
public readonly record struct RateLimitStatus(KeyLimits Limits, LimitUsage Usage, DateTimeOffset WindowStart, DateTimeOffset Now, bool Stream);
