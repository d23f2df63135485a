using Qhaigc.Functions.Usage;

namespace Qhaigc.Bench.GatewayHost;

/// <summary>
/// A usage store that costs no CPU here: it counts the records and keeps none. Selected with
/// <c>BENCH_USAGE_STORE=memory</c>, so that a run can show the gateway's own cost apart from Azurite's (which shares the
/// benchmark's cores and grows with the table). Bench-only: the product always writes its usage table.
/// </summary>
public sealed class CountingUsageStore : IUsageStore
{
    private long _records;

    public long Records => Interlocked.Read(ref _records);

    public Task WriteAsync(UsageRecord record, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _records);
        return Task.CompletedTask;
    }

    public Task WriteBatchAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref _records, records.Count);
        return Task.CompletedTask;
    }

    public IAsyncEnumerable<UsageRecord> QueryAsync(string keyId, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken) =>
        AsyncEnumerable.Empty<UsageRecord>();

    public Task<UsagePage> QueryPageAsync(
        string keyId, DateTimeOffset since, DateTimeOffset until, string? continuationToken, int pageSize, CancellationToken cancellationToken) =>
        Task.FromResult(new UsagePage([], null));

    public Task<IReadOnlyList<string>> KeyIdsAsync(DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([]);
}
