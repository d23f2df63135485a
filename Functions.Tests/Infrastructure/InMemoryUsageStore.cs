using System.Runtime.CompilerServices;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>
/// <see cref="IUsageStore"/> in memory, for tests that call handlers directly: the same rows as
/// <see cref="TableUsageStore"/> (partition the key id, row key start time and request id, mapped by
/// <see cref="UsageEntity"/>), so writes are idempotent per call and queries come back in the table's order.
/// <c>UsageStoreContractTests</c> runs the same assertions against both.
/// </summary>
public sealed class InMemoryUsageStore : IUsageStore
{
    private readonly Lock _lock = new();

    /// <summary>Rows by (partition key, row key), ordinal, as Table Storage orders them.</summary>
    private readonly SortedDictionary<(string PartitionKey, string RowKey), UsageEntity> _rows = new(RowOrder.Instance);

    /// <summary>When true every write throws <see cref="StorageUnavailableException"/>, as the table store does in an outage.</summary>
    public bool Unavailable { get; set; }

    /// <summary>Every record written, in the table's order (by key, then start time).</summary>
    public IReadOnlyList<UsageRecord> Records
    {
        get
        {
            lock (_lock)
            {
                return _rows.Values.Select(static e => e.ToRecord()).ToList();
            }
        }
    }

    public Task WriteAsync(UsageRecord record, CancellationToken cancellationToken) => WriteBatchAsync([record], cancellationToken);

    public Task WriteBatchAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        if (Unavailable)
        {
            return Task.FromException(new StorageUnavailableException("The in-memory usage store is set unavailable."));
        }

        lock (_lock)
        {
            // As the table store's transactions: one row per request id within a key, the first one given.
            foreach (var record in records.GroupBy(static r => r.KeyId, StringComparer.Ordinal)
                         .SelectMany(static key => key.DistinctBy(static r => r.RequestId, StringComparer.Ordinal)))
            {
                var entity = UsageEntity.From(record);
                entity.StartedAt = entity.StartedAt.ToUniversalTime();
                _rows[(entity.PartitionKey, entity.RowKey)] = entity;
            }
        }

        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<UsageRecord> QueryAsync(
        string keyId, DateTimeOffset since, DateTimeOffset until, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var low = UsageEntity.RowKeyPrefix(since);
        var high = UsageEntity.RowKeyPrefix(until);
        List<UsageRecord> found;
        lock (_lock)
        {
            found = _rows
                .Where(row => row.Key.PartitionKey == keyId &&
                              string.CompareOrdinal(row.Key.RowKey, low) >= 0 && string.CompareOrdinal(row.Key.RowKey, high) < 0)
                .Select(static row => row.Value.ToRecord())
                .ToList();
        }

        foreach (var record in found)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return record;
        }
    }

    public Task<IReadOnlyList<string>> KeyIdsAsync(DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var (low, high) = (UsageEntity.RowKeyPrefix(since), UsageEntity.RowKeyPrefix(until));
        lock (_lock)
        {
            IReadOnlyList<string> ids = _rows.Keys
                .Where(row => string.CompareOrdinal(row.RowKey, low) >= 0 && string.CompareOrdinal(row.RowKey, high) < 0)
                .Select(static row => row.PartitionKey)
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal)
                .ToList();
            return Task.FromResult(ids);
        }
    }

    /// <summary>
    /// One page of the range; the continuation is the last row key returned (opaque to callers, as the table's is), so
    /// the next page starts right after it.
    /// </summary>
    public Task<UsagePage> QueryPageAsync(
        string keyId, DateTimeOffset since, DateTimeOffset until, string? continuationToken, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, 1000);
        var low = UsageEntity.RowKeyPrefix(since);
        var high = UsageEntity.RowKeyPrefix(until);
        lock (_lock)
        {
            var rows = _rows
                .Where(row => row.Key.PartitionKey == keyId &&
                              string.CompareOrdinal(row.Key.RowKey, low) >= 0 && string.CompareOrdinal(row.Key.RowKey, high) < 0 &&
                              (continuationToken is null || string.CompareOrdinal(row.Key.RowKey, continuationToken) > 0))
                .Take(pageSize + 1)
                .ToList();
            var page = rows.Take(pageSize).ToList();
            var next = rows.Count > pageSize ? page[^1].Key.RowKey : null;
            return Task.FromResult(new UsagePage([.. page.Select(static row => row.Value.ToRecord())], next));
        }
    }

    private sealed class RowOrder : IComparer<(string PartitionKey, string RowKey)>
    {
        public static readonly RowOrder Instance = new();

        public int Compare((string PartitionKey, string RowKey) x, (string PartitionKey, string RowKey) y)
        {
            var partition = string.CompareOrdinal(x.PartitionKey, y.PartitionKey);
            return partition != 0 ? partition : string.CompareOrdinal(x.RowKey, y.RowKey);
        }
    }
}
