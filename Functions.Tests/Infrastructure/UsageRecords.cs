using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>Usage records for storage tests.</summary>
public static class UsageRecords
{
    /// <summary>
    /// A record with every field set and what storage gets wrong first: a start time in another offset to the tick,
    /// text that JSON and filters must escape, a count beyond 32 bits, a whole-number double.
    /// </summary>
    public static UsageRecord Full(string requestId) => new()
    {
        RequestId = requestId,
        KeyId = "key_0000000000batch1",
        Endpoint = "messages",
        StartedAt = new DateTimeOffset(2026, 12, 5, 1, 2, 3, TimeSpan.FromHours(2)).AddTicks(1234567),
        UpstreamRequestId = "req_upstream'quoted",
        BatchId = "msgbatch_full",
        Model = "claude-sonnet-4-5",
        Upstream = "anthropic",
        UpstreamModel = "claude-sonnet-4-5-20250929",
        Stream = true,
        Status = 200,
        ErrorType = "overloaded_error",
        State = UsageState.Truncated,
        InputTokens = 10_000_000_000,
        OutputTokens = 20,
        CacheCreationInputTokens = 30,
        CacheCreation5mInputTokens = 10,
        CacheCreation1hInputTokens = 20,
        CacheReadInputTokens = 40,
        WebSearchRequests = 3_000_000_000,
        WebFetchRequests = 2,
        ServiceTier = "priority",
        Speed = "fast",
        InferenceGeo = "us",
        RawUsage = "{\"input_tokens\":10,\"note\":\"é \\u0001 ☃ \\\"quoted\\\"\"}",
        Estimated = true,
        DurationMs = 5.0,
        TimeToFirstByteMs = 12.345678901,
        ClientRetryCount = 2,
        ClientSessionId = "session-1",
        Cost = 0.123456m,
        Currency = "USD",
        PriceVersion = "2026-12",
        UpstreamAttempts = 3,
        TraceId = "4bf92f3577b34da6a3ce929d0e0e4736",
        Bytes = 524_288_000,
    };
}
