namespace Qhaigc.Functions.Governance;

/// <summary>
/// What a call may use, known before it runs: its input token estimate (margin included), <c>max_tokens</c> as the
/// most output it can produce, its worst-case cost (null when its model has no price) and whether it streams.
/// </summary>
public readonly record struct CallEstimate(long InputTokens, long OutputTokens, long? WorstCostMicros, bool Stream);
