using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Usage;

/// <summary>
/// What callers rely on from a usage store, asserted against the table store on Azurite and against
/// <see cref="InMemoryUsageStore"/>, so the fake that direct tests use cannot drift from the real one.
/// </summary>
public sealed class UsageStoreContractTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> Stores => new() { "memory", "table" };

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Store_KeepsOneRowPerCall_WithEveryFieldAsWritten(string kind)
    {
        // Arrange
        var store = await CreateAsync(kind);
        var record = UsageRecords.Full("req_every_field");

        // Act: written twice, then once more in a batch.
        await store.WriteAsync(record, CancellationToken.None);
        await store.WriteAsync(record, CancellationToken.None);
        await store.WriteBatchAsync([record, record with { OutputTokens = 99 }], CancellationToken.None);
        var found = await QueryAsync(store, record.KeyId, record.StartedAt, record.StartedAt.AddTicks(1));

        // Assert: one row, every field as written (the start the same instant, in UTC).
        var row = Assert.Single(found);
        Assert.Equal(record, row);
        Assert.Equal(TimeSpan.Zero, row.StartedAt.Offset);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Store_QueriesOneKeysRange_OldestFirst(string kind)
    {
        // Arrange: two keys, five days each, written newest first and in batches.
        var store = await CreateAsync(kind);
        for (var day = 4; day >= 0; day--)
        {
            await store.WriteBatchAsync(
                [Record("key_00000000000000bb", $"req_b{day}", Start.AddDays(day)), Record("key_00000000000000cc", $"req_c{day}", Start.AddDays(day))],
                CancellationToken.None);
        }

        // Act
        var range = await QueryAsync(store, "key_00000000000000bb", Start.AddDays(1), Start.AddDays(3));
        var exactEnd = await QueryAsync(store, "key_00000000000000cc", Start.AddDays(4), Start.AddDays(4));
        var unknown = await QueryAsync(store, "key_00000000000000dd", Start, Start.AddDays(5));

        // Assert: [since, until), this key only, oldest first.
        Assert.Equal(["req_b1", "req_b2"], range.Select(static r => r.RequestId));
        Assert.Empty(exactEnd);
        Assert.Empty(unknown);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Store_ListsTheKeysWithRecordsInARange_InIdOrder(string kind)
    {
        // Arrange: three keys on different days.
        var store = await CreateAsync(kind);
        await store.WriteBatchAsync([Record("key_00000000000000f2", "req_f2", Start.AddDays(1))], CancellationToken.None);
        await store.WriteBatchAsync([Record("key_00000000000000f1", "req_f1a", Start), Record("key_00000000000000f1", "req_f1b", Start.AddDays(2))],
            CancellationToken.None);
        await store.WriteBatchAsync([Record("key_00000000000000f3", "req_f3", Start.AddDays(3))], CancellationToken.None);

        // Act
        var all = await store.KeyIdsAsync(Start, Start.AddDays(4), CancellationToken.None);
        var some = await store.KeyIdsAsync(Start.AddDays(1), Start.AddDays(3), CancellationToken.None);
        var none = await store.KeyIdsAsync(Start.AddDays(10), Start.AddDays(11), CancellationToken.None);

        // Assert: each key once, whatever the number of its records, and only keys with records in [since, until).
        Assert.Equal(["key_00000000000000f1", "key_00000000000000f2", "key_00000000000000f3"], all);
        Assert.Equal(["key_00000000000000f1", "key_00000000000000f2"], some);
        Assert.Empty(none);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Store_PagesARange_ResumingWhereThePreviousPageEnded(string kind)
    {
        // Arrange: 250 records of one key in the range, and some outside it and of another key.
        var store = await CreateAsync(kind);
        var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var inRange = Enumerable.Range(0, 250).Select(i => Record("key_00000000000000dd", $"req_in{i:D6}", start.AddSeconds(i))).ToList();
        await store.WriteBatchAsync(
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
            var page = await store.QueryPageAsync("key_00000000000000dd", start, start.AddDays(1), token, 100, CancellationToken.None);
            pages.Add(page);
            token = page.ContinuationToken;
        }
        while (token is not null && pages.Count < 10);

        // Assert: three pages, in order, each record once, none outside the key and range.
        Assert.Equal([100, 100, 50], pages.Select(static p => p.Records.Count));
        Assert.Equal(inRange.Select(static r => r.RequestId), pages.SelectMany(static p => p.Records).Select(static r => r.RequestId));
        Assert.Null(pages[^1].ContinuationToken);
    }

    private static async Task<IUsageStore> CreateAsync(string kind) =>
        kind == "table" ? (await GatewayTestEnvironment.CreateAsync()).Usage : new InMemoryUsageStore();

    private static async Task<List<UsageRecord>> QueryAsync(IUsageStore store, string keyId, DateTimeOffset since, DateTimeOffset until)
    {
        var found = new List<UsageRecord>();
        await foreach (var record in store.QueryAsync(keyId, since, until, CancellationToken.None))
        {
            found.Add(record);
        }

        return found;
    }

    private static UsageRecord Record(string keyId, string requestId, DateTimeOffset startedAt) => new()
    {
        RequestId = requestId,
        KeyId = keyId,
        Endpoint = "messages",
        StartedAt = startedAt,
        State = UsageState.Complete,
    };
}
