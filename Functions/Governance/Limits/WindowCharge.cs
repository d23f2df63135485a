namespace Qhaigc.Functions.Governance;

/// <summary>The tokens a call reserves in its minute window.</summary>
public readonly record struct WindowCharge(long InputTokens, long OutputTokens);
