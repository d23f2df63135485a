namespace Qhaigc.Bench.Runner.Scale;

/// <summary>What one paced stream delivered (keep-alive pings left out): bytes, events, the first byte's time from the send (ms), or what failed.</summary>
public readonly record struct StreamOutcome(long Bytes, long Events, double FirstByteMs, string? Failure);
