using System.Runtime.CompilerServices;

namespace Qhaigc.Functions.Usage;

/// <summary>
/// The usage table: one usage record per call (docs/usage-records.md). Writes are idempotent per request id. Not to be
/// confused with the limit ledger, which holds the limit counters (<see cref="Governance.ILimitLedger"/>).
/// </summary>
public interface IUsageStore
{
    Task WriteAsync(UsageRecord record, CancellationToken cancellationToken);

    /// <summary>
    /// Writes several records in as few requests as the store allows (Table Storage: one transaction per key of up to
    /// 100 rows); idempotent like <see cref="WriteAsync"/>, so a failed batch can be written again, whole or one by one.
    /// </summary>
    Task WriteBatchAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken);

    /// <summary>Records of one key that started in [since, until), oldest first.</summary>
    IAsyncEnumerable<UsageRecord> QueryAsync(string keyId, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>
    /// One page of the records <see cref="QueryAsync"/> yields: at most <paramref name="pageSize"/> (1 to 1000) from where
    /// <paramref name="continuationToken"/> left off (null: the first), and the token of the next page, null after the
    /// last. A page may hold fewer records than asked for, even none, and still have a next one. The token is the
    /// store's own; pass back only one it gave.
    /// </summary>
    Task<UsagePage> QueryPageAsync(
        string keyId, DateTimeOffset since, DateTimeOffset until, string? continuationToken, int pageSize, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="QueryPageAsync(string, DateTimeOffset, DateTimeOffset, string?, int, CancellationToken)"/> keeping only
    /// the records <paramref name="filter"/> keeps; a page may then hold fewer records than asked for, even none, and
    /// still have a next one. A store that cannot filter where it reads filters each page.
    /// </summary>
    async Task<UsagePage> QueryPageAsync(
        string keyId, DateTimeOffset since, DateTimeOffset until, UsageFilter filter, string? continuationToken, int pageSize,
        CancellationToken cancellationToken)
    {
        var page = await QueryPageAsync(keyId, since, until, continuationToken, pageSize, cancellationToken);
        return filter.IsEmpty ? page : page with { Records = [.. page.Records.Where(filter.Keeps)] };
    }

    /// <summary>
    /// The ids of the keys with records that started in [since, until), in id order: deleted keys included, since
    /// their records stay (the admin API's totals over every key read them).
    /// </summary>
    Task<IReadOnlyList<string>> KeyIdsAsync(DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>
    /// The daily aggregates of one key for the UTC days [<paramref name="firstDay"/>, <paramref name="endDay"/>), ordered by day,
    /// model and currency, each equal to the sum of its day's records (docs/console.md#daily-aggregates). A store that
    /// keeps no aggregates sums the records.
    /// </summary>
    async IAsyncEnumerable<DailyUsage> DailyAsync(
        string keyId, DateOnly firstDay, DateOnly endDay, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var since = new DateTimeOffset(firstDay.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var until = new DateTimeOffset(endDay.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var records = new List<UsageRecord>();
        await foreach (var record in QueryAsync(keyId, since, until, cancellationToken))
        {
            records.Add(record);
        }

        foreach (var day in DailyUsage.Sum(records))
        {
            yield return day;
        }
    }
}
