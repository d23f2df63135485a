namespace Qhaigc.Functions.Governance;

/// <summary>
/// What a key has used, as the shared counters say: requests and tokens in the current minute window (tokens of calls
/// still running count at their reservation), spend settled and reserved in the current period, streams running.
/// </summary>
public readonly record struct LimitUsage(
    long Requests, long InputTokens, long OutputTokens, long SpentMicros, long ReservedMicros, long ActiveStreams)
{
    public long Tokens => InputTokens + OutputTokens;
}
