using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Usage;

/// <summary>
/// The usage table against a real Azurite: its transactions. What every usage store does (one row per call, every
/// field kept, range queries) is in <see cref="UsageStoreContractTests"/>.
/// </summary>
public sealed class TableUsageStoreTests
{
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
            State = UsageState.Complete,
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
