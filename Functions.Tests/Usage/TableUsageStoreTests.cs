using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Usage;

/// <summary>The usage table against a real Azurite.</summary>
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

    [Fact]
    public async Task QueryPageAsync_ResumesWhereThePreviousPageEnded_UntilTheLastPage()
    {
        // Arrange: 250 records of one key in the range, and some outside it and of another key.
        var environment = await GatewayTestEnvironment.CreateAsync();
        var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var inRange = Enumerable.Range(0, 250).Select(i => Record("key_00000000000000dd", $"req_in{i:D6}", start.AddSeconds(i))).ToList();
        await environment.Usage.WriteBatchAsync(
        [
            .. inRange,
            Record("key_00000000000000dd", "req_before", start.AddSeconds(-1)),
            Record("key_00000000000000dd", "req_after", start.AddDays(1)),
            Record("key_00000000000000ee", "req_other", start.AddSeconds(5)),
        ], CancellationToken.None);

        // Act
        var pages = new List<UsagePage>();
        string? token = null;
        do
        {
            var page = await environment.Usage.QueryPageAsync("key_00000000000000dd", start, start.AddDays(1), token, 100, CancellationToken.None);
            pages.Add(page);
            token = page.ContinuationToken;
        }
        while (token is not null && pages.Count < 10);

        // Assert: three pages, in order, each record once, none outside the key and range.
        Assert.Equal([100, 100, 50], pages.Select(static p => p.Records.Count));
        Assert.Equal(inRange.Select(static r => r.RequestId), pages.SelectMany(static p => p.Records).Select(static r => r.RequestId));
        Assert.Null(pages[^1].ContinuationToken);
    }

    private static UsageRecord Record(string keyId, string requestId, DateTimeOffset startedAt) => new()
    {
        RequestId = requestId,
        KeyId = keyId,
        Endpoint = "messages",
        StartedAt = startedAt,
        State = UsageStates.Complete,
    };

    [Fact]
    public async Task WriteBatchAsync_WritesEveryRecord_InTransactionsPerKey_AndIsIdempotent()
    {
        // Arrange: 230 records of one key (three transactions) and 3 of another, each with a sizeable raw usage.
        var environment = await GatewayTestEnvironment.CreateAsync();
        var started = DateTimeOffset.UtcNow;
        var records = Enumerable.Range(0, 233).Select(i => new UsageRecord
        {
            RequestId = $"req_batch{i:D16}",
            KeyId = i < 230 ? "key_000000000000batch" : "key_00000000000other",
            Endpoint = "messages",
            StartedAt = started.AddMilliseconds(i),
            State = UsageStates.Complete,
            OutputTokens = i,
            RawUsage = "{\"pad\":\"" + new string('x', 8_000) + "\"}",
        }).ToList();

        // Act: written twice, as a retried batch would be.
        await environment.Usage.WriteBatchAsync(records, CancellationToken.None);
        await environment.Usage.WriteBatchAsync(records, CancellationToken.None);

        // Assert
        var first = await environment.AllUsageAsync("key_000000000000batch");
        var second = await environment.AllUsageAsync("key_00000000000other");
        Assert.Equal(230, first.Count);
        Assert.Equal(3, second.Count);
        Assert.Equal(Enumerable.Range(0, 230).Sum(), first.Sum(static r => r.OutputTokens));
    }
}
