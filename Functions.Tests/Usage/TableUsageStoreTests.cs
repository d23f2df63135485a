using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Usage;

/// <summary>The usage ledger against a real Azurite.</summary>
public sealed class TableUsageStoreTests
{
    [Fact]
    public async Task WriteAsync_IsIdempotentPerRequest_AndKeepsEveryField()
    {
        // Arrange
        var environment = await GatewayTestEnvironment.CreateAsync();
        var record = new UsageRecord
        {
            RequestId = "req_idempotent000000000000",
            KeyId = "key_00000000000000aa",
            Endpoint = "messages",
            StartedAt = new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero),
            UpstreamRequestId = "req_upstream",
            Model = "claude-sonnet-4-5",
            Upstream = "anthropic",
            UpstreamModel = "claude-sonnet-4-5-20250929",
            Stream = true,
            Status = 200,
            State = UsageStates.Truncated,
            ErrorType = "overloaded_error",
            InputTokens = 10,
            OutputTokens = 20,
            CacheCreationInputTokens = 30,
            CacheCreation5mInputTokens = 10,
            CacheCreation1hInputTokens = 20,
            CacheReadInputTokens = 40,
            RawUsage = "{\"input_tokens\":10}",
            Estimated = true,
            DurationMs = 123.5,
            TimeToFirstByteMs = 12.25,
            ClientRetryCount = 1,
            ClientSessionId = "session-1",
        };

        // Act
        await environment.Usage.WriteAsync(record, CancellationToken.None);
        await environment.Usage.WriteAsync(record, CancellationToken.None);
        var rows = await environment.AllUsageAsync(record.KeyId);

        // Assert
        Assert.Equal(record, Assert.Single(rows));
    }

    [Fact]
    public async Task QueryAsync_ReturnsOneKeysRecordsInTheRange_Ordered()
    {
        // Arrange
        var environment = await GatewayTestEnvironment.CreateAsync();
        var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        for (var day = 0; day < 5; day++)
        {
            await environment.Usage.WriteAsync(Record("key_00000000000000bb", $"req_b{day}", start.AddDays(day)), CancellationToken.None);
            await environment.Usage.WriteAsync(Record("key_00000000000000cc", $"req_c{day}", start.AddDays(day)), CancellationToken.None);
        }

        // Act
        var found = new List<UsageRecord>();
        await foreach (var record in environment.Usage.QueryAsync("key_00000000000000bb", start.AddDays(1), start.AddDays(3), CancellationToken.None))
        {
            found.Add(record);
        }

        // Assert: [since, until), this key only, oldest first.
        Assert.Equal(["req_b1", "req_b2"], found.Select(static r => r.RequestId));
    }

    private static UsageRecord Record(string keyId, string requestId, DateTimeOffset startedAt) => new()
    {
        RequestId = requestId,
        KeyId = keyId,
        Endpoint = "messages",
        StartedAt = startedAt,
        State = UsageStates.Complete,
    };
}
