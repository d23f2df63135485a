namespace Qhaigc.Functions.Governance;

/// <summary>What a finished call really used: rate-limited input and output tokens, and its cost in micro-units.</summary>
public readonly record struct ActualUse(long InputTokens, long OutputTokens, long CostMicros);
