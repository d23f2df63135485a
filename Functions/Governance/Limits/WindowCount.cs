namespace Qhaigc.Functions.Governance;

/// <summary>What <see cref="ILimitLedger.CountAsync"/> did: counted the call or not, the calls in the window after it, and the window's start.</summary>
public readonly record struct WindowCount(bool Counted, long Calls, DateTimeOffset WindowStart);
