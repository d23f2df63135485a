using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Usage;

/// <summary>
/// The usage table in Azure Table Storage (or Azurite): the records, and next to them in each key's partition the daily
/// aggregates they add up to, written in the same transactions (docs/console.md#daily-aggregates).
/// </summary>
/// <remarks>
/// Each write is one entity group transaction of records and the aggregate rows they change: a record is inserted (or,
/// when its row exists already, replaced as it was read), and each aggregate replaced as it was read, with the
/// difference the records make. Table Storage applies a transaction whole or not at all, and refuses it when any row
/// changed since it was read (its ETag), so a record is counted exactly once however often it is written, by however
/// many instances at once, and a crash can never leave a record without its aggregate. A refused transaction is read
/// again and retried. The aggregates this instance wrote last are remembered with their ETags, so a key written by
/// one instance costs one request per transaction, as before.
/// </remarks>
public sealed class TableUsageStore(GatewayTables tables) : IUsageStore
{
    /// <summary>Table Storage's limit of rows in one transaction (records and aggregates together).</summary>
    private const int MaxRows = 100;

    /// <summary>How often a transaction refused by a concurrent writer is read again before the write fails (and the writer retries it later).</summary>
    private const int MaxConflicts = 12;

    /// <summary>Aggregates remembered at most; past it the memory starts afresh (a miss costs one read).</summary>
    private const int MaxRemembered = 10_000;

    /// <summary>The columns a record's share of its aggregate is computed from.</summary>
    private static readonly string[] ShareColumns =
    [
        nameof(UsageEntity.PartitionKey), nameof(UsageEntity.RowKey), nameof(UsageEntity.StartedAt), nameof(UsageEntity.Model), nameof(UsageEntity.Status), nameof(UsageEntity.State),
        nameof(UsageEntity.InputTokens), nameof(UsageEntity.OutputTokens), nameof(UsageEntity.CacheCreationInputTokens),
        nameof(UsageEntity.CacheCreation5mInputTokens), nameof(UsageEntity.CacheCreation1hInputTokens), nameof(UsageEntity.CacheReadInputTokens),
        nameof(UsageEntity.WebSearchRequests), nameof(UsageEntity.WebFetchRequests), nameof(UsageEntity.Estimated),
        nameof(UsageEntity.CostMicros), nameof(UsageEntity.Currency),
    ];

    private readonly ConcurrentDictionary<(string PartitionKey, string RowKey), Stored> _aggregates = new();

    public Task WriteAsync(UsageRecord record, CancellationToken cancellationToken) => WriteBatchAsync([record], cancellationToken);

    public async Task WriteBatchAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0)
        {
            return;
        }

        try
        {
            var table = await tables.UsageAsync(cancellationToken);
            foreach (var transaction in Transactions(records))
            {
                await WriteTransactionAsync(table, transaction, cancellationToken);
            }
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    /// <summary>
    /// Records grouped as Table Storage allows one transaction: one partition (key), at most 100 rows with the
    /// aggregates they change, a few MB (rows carry the raw usage JSON, up to 64 KB each). Within a key, the first
    /// record given for a request id is the one written.
    /// </summary>
    private static IEnumerable<List<UsageEntity>> Transactions(IReadOnlyList<UsageRecord> records)
    {
        const long maxBytes = 2 * 1024 * 1024;
        foreach (var partition in records.GroupBy(static r => r.KeyId, StringComparer.Ordinal))
        {
            var transaction = new List<UsageEntity>(MaxRows);
            var aggregates = new HashSet<(string, string, string)>();
            long bytes = 0;
            foreach (var record in partition.DistinctBy(static r => r.RequestId, StringComparer.Ordinal))
            {
                var size = 2048 + 2L * ((record.RawUsage?.Length ?? 0) + (record.Model?.Length ?? 0) + (record.UpstreamModel?.Length ?? 0) +
                                        (record.ErrorType?.Length ?? 0) + (record.ClientSessionId?.Length ?? 0) + (record.UpstreamRequestId?.Length ?? 0));
                var aggregate = (DailyUsage.DayOf(record.StartedAt), record.Model ?? "", record.Currency ?? "");
                var rows = transaction.Count + 1 + aggregates.Count + (aggregates.Contains(aggregate) ? 0 : 1);
                if (transaction.Count > 0 && (rows > MaxRows || bytes + size > maxBytes))
                {
                    yield return transaction;
                    transaction = new List<UsageEntity>(MaxRows);
                    aggregates.Clear();
                    bytes = 0;
                }

                transaction.Add(UsageEntity.From(record));
                aggregates.Add(aggregate);
                bytes += size;
            }

            if (transaction.Count > 0)
            {
                yield return transaction;
            }
        }
    }

    /// <summary>
    /// One transaction of one key's records and their aggregates. The first try assumes the records are new and the
    /// remembered aggregates current; a refusal (a record that exists, an aggregate another writer changed) reads both.
    /// </summary>
    private async Task WriteTransactionAsync(TableClient table, List<UsageEntity> records, CancellationToken cancellationToken)
    {
        var keyId = records[0].PartitionKey;
        Dictionary<string, Stored>? existing = null;
        var fresh = false;
        for (var attempt = 0; ; attempt++)
        {
            // What the transaction changes in each aggregate: every record's share, less the share of the row it replaces.
            var changes = new Dictionary<string, DailyUsage>(StringComparer.Ordinal);
            var writes = new List<TableWrite>(MaxRows);
            foreach (var record in records)
            {
                var share = DailyUsage.Of(record.ToRecord());
                Change(changes, share, 1);
                if (existing?.GetValueOrDefault(record.RowKey) is { } old)
                {
                    Change(changes, old.Usage, -1);
                    writes.Add(new TableWrite(record, TableWriteKind.Replace, old.ETag));
                }
                else
                {
                    writes.Add(new TableWrite(record, TableWriteKind.Insert));
                }
            }

            var aggregateAt = writes.Count;
            var aggregates = new List<(string RowKey, DailyUsage Value)>();
            foreach (var (rowKey, change) in changes)
            {
                if (IsZero(change))
                {
                    continue;
                }

                var stored = fresh ? await ReadAggregateAsync(table, keyId, rowKey, cancellationToken) : await RememberedAsync(table, keyId, rowKey, cancellationToken);
                var value = stored?.Usage is { } current ? current with { } : change.Empty();
                value.Add(change);
                aggregates.Add((rowKey, value));
                writes.Add(stored is null
                    ? new TableWrite(DailyUsageEntity.From(value), TableWriteKind.Insert)
                    : new TableWrite(DailyUsageEntity.From(value), TableWriteKind.Replace, stored.ETag));
            }

            if (writes.Count > MaxRows)
            {
                // Replaced records whose old values count in other aggregates (another model, say): two transactions.
                await WriteTransactionAsync(table, records[..(records.Count / 2)], cancellationToken);
                await WriteTransactionAsync(table, records[(records.Count / 2)..], cancellationToken);
                return;
            }

            try
            {
                var etags = await SubmitAsync(table, writes, cancellationToken);
                for (var i = 0; i < aggregates.Count; i++)
                {
                    Remember(keyId, aggregates[i].RowKey, etags[aggregateAt + i] is { } etag ? new Stored(etag, aggregates[i].Value) : null);
                }

                return;
            }
            catch (RequestFailedException exception) when (exception.Status is 409 or 412 && attempt < MaxConflicts)
            {
                // Another writer was first (or this one's earlier try went through unanswered): read what is there, try again.
                foreach (var (rowKey, _) in changes)
                {
                    Remember(keyId, rowKey, null);
                }

                existing = await ReadRecordsAsync(table, records, cancellationToken);
                fresh = true;
                if (attempt > 2)
                {
                    await Task.Delay(Random.Shared.Next(5, 20 * attempt), cancellationToken);
                }
            }
            catch (RequestFailedException exception) when (exception.Status is 409 or 412)
            {
                throw new StorageUnavailableException("Usage records kept conflicting with other writers; they will be retried.", exception);
            }
        }
    }

    private static void Change(Dictionary<string, DailyUsage> changes, DailyUsage share, int sign)
    {
        var rowKey = DailyUsageEntity.RowKeyFor(share.Day, share.Model, share.Currency);
        if (!changes.TryGetValue(rowKey, out var change))
        {
            changes.Add(rowKey, change = share.Empty());
        }

        change.Add(share, sign);
    }

    private static bool IsZero(DailyUsage change) =>
        change is { Calls: 0, Errors: 0, InputTokens: 0, OutputTokens: 0, CacheWrite5mTokens: 0, CacheWrite1hTokens: 0, CacheReadTokens: 0,
            WebSearchRequests: 0, WebFetchRequests: 0, CostMicros: 0, UnpricedCalls: 0, EstimatedCalls: 0 };

    private async Task<ETag?[]> SubmitAsync(TableClient table, List<TableWrite> writes, CancellationToken cancellationToken)
    {
        if (tables.UsageBatch is { } batch)
        {
            return await batch.WriteAsync(writes, cancellationToken);
        }

        var answer = await table.SubmitTransactionAsync(writes.ConvertAll(static w => w.ToAction()), cancellationToken);
        return [.. answer.Value.Select(static r => r.Headers.ETag)];
    }

    private async ValueTask<Stored?> RememberedAsync(TableClient table, string keyId, string rowKey, CancellationToken cancellationToken) =>
        _aggregates.TryGetValue((keyId, rowKey), out var stored) ? stored : await ReadAggregateAsync(table, keyId, rowKey, cancellationToken);

    private static async Task<Stored?> ReadAggregateAsync(TableClient table, string keyId, string rowKey, CancellationToken cancellationToken)
    {
        var found = await table.GetEntityIfExistsAsync<DailyUsageEntity>(keyId, rowKey, cancellationToken: cancellationToken);
        return found.HasValue && found.Value is { } row ? new Stored(row.ETag, row.ToUsage()) : null;
    }

    private void Remember(string keyId, string rowKey, Stored? stored)
    {
        if (stored is null)
        {
            _aggregates.TryRemove((keyId, rowKey), out _);
            return;
        }

        if (_aggregates.Count >= MaxRemembered)
        {
            _aggregates.Clear();
        }

        _aggregates[(keyId, rowKey)] = stored;
    }

    /// <summary>The rows these records would replace, as they are now: one range query over the transaction's row keys.</summary>
    private static async Task<Dictionary<string, Stored>> ReadRecordsAsync(TableClient table, List<UsageEntity> records, CancellationToken cancellationToken)
    {
        var wanted = records.Select(static r => r.RowKey).ToHashSet(StringComparer.Ordinal);
        var low = wanted.Min(StringComparer.Ordinal)!;
        var high = wanted.Max(StringComparer.Ordinal)!;
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {records[0].PartitionKey} and RowKey ge {low} and RowKey le {high}");
        var found = new Dictionary<string, Stored>(StringComparer.Ordinal);
        await foreach (var row in table.QueryAsync<UsageEntity>(filter, maxPerPage: 1000, select: ShareColumns, cancellationToken))
        {
            if (wanted.Contains(row.RowKey))
            {
                found[row.RowKey] = new Stored(row.ETag, DailyUsage.Of(row.ToRecord()));
            }
        }

        return found;
    }

    /// <summary>
    /// The daily aggregates of one key for the UTC days [<paramref name="firstDay"/>, <paramref name="endDay"/>), by day, model and
    /// currency: one range query of the key's partition, whatever its number of records.
    /// </summary>
    public async IAsyncEnumerable<DailyUsage> DailyAsync(
        string keyId, DateOnly firstDay, DateOnly endDay, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var table = await tables.UsageAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {keyId} and RowKey ge {DailyUsageEntity.DayStart(Day(firstDay))} and RowKey lt {DailyUsageEntity.DayStart(Day(endDay))}");
        var rows = new List<DailyUsage>();
        try
        {
            await foreach (var row in table.QueryAsync<DailyUsageEntity>(filter, maxPerPage: 1000, cancellationToken: cancellationToken))
            {
                if (row.Calls != 0)
                {
                    rows.Add(row.ToUsage());
                }
            }
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }

        foreach (var row in rows.OrderBy(static d => d.Day, StringComparer.Ordinal).ThenBy(static d => d.Model, StringComparer.Ordinal)
                     .ThenBy(static d => d.Currency, StringComparer.Ordinal))
        {
            yield return row;
        }
    }

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>An aggregate (or a record's share of one) as the table holds it, and the ETag it holds it at.</summary>
    private sealed record Stored(ETag ETag, DailyUsage Usage);

    public async IAsyncEnumerable<UsageRecord> QueryAsync(
        string keyId, DateTimeOffset since, DateTimeOffset until, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var table = await tables.UsageAsync(cancellationToken);
        await foreach (var entity in table.QueryAsync<UsageEntity>(Range(keyId, since, until), maxPerPage: 1000, cancellationToken: cancellationToken))
        {
            yield return entity.ToRecord();
        }
    }

    /// <summary>
    /// One page of the range query, resumed from the table's own continuation token
    /// (https://learn.microsoft.com/rest/api/storageservices/query-timeout-and-pagination), so no record before it is
    /// read again.
    /// </summary>
    public Task<UsagePage> QueryPageAsync(
        string keyId, DateTimeOffset since, DateTimeOffset until, string? continuationToken, int pageSize, CancellationToken cancellationToken) =>
        QueryPageAsync(keyId, since, until, UsageFilter.None, continuationToken, pageSize, cancellationToken);

    /// <summary>A page of the range with the filter in the table's own query, so records it drops never travel.</summary>
    public async Task<UsagePage> QueryPageAsync(
        string keyId, DateTimeOffset since, DateTimeOffset until, UsageFilter filter, string? continuationToken, int pageSize,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, 1000);
        try
        {
            var table = await tables.UsageAsync(cancellationToken);
            var pages = table.QueryAsync<UsageEntity>(Range(keyId, since, until) + Where(filter), cancellationToken: cancellationToken)
                .AsPages(continuationToken, pageSize);
            await foreach (var page in pages)
            {
                var records = page.Values.Select(static entity => entity.ToRecord()).ToArray();
                return new UsagePage(records, string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken);
            }

            return new UsagePage([], null);
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    /// <summary>
    /// One query per key that has records in the range, each asking for the first row after the last key found: the
    /// table is walked partition by partition, and only one key column comes back per key, whatever its records.
    /// </summary>
    public async Task<IReadOnlyList<string>> KeyIdsAsync(DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var (low, high) = (UsageEntity.RowKeyPrefix(since), UsageEntity.RowKeyPrefix(until));
        var ids = new List<string>();
        try
        {
            var table = await tables.UsageAsync(cancellationToken);
            while (true)
            {
                var filter = ids.Count == 0
                    ? TableClient.CreateQueryFilter($"RowKey ge {low} and RowKey lt {high}")
                    : TableClient.CreateQueryFilter($"PartitionKey gt {ids[^1]} and RowKey ge {low} and RowKey lt {high}");
                string? next = null;
                await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: ["PartitionKey"], cancellationToken))
                {
                    next = entity.PartitionKey;
                    break;
                }

                if (next is null)
                {
                    return ids;
                }

                ids.Add(next);
            }
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    /// <summary>A key's rows that started in [since, until): one partition, a row key range (no table scan).</summary>
    private static string Range(string keyId, DateTimeOffset since, DateTimeOffset until)
    {
        var low = UsageEntity.RowKeyPrefix(since);
        var high = UsageEntity.RowKeyPrefix(until);
        return TableClient.CreateQueryFilter($"PartitionKey eq {keyId} and RowKey ge {low} and RowKey lt {high}");
    }

    private static string Where(UsageFilter filter) =>
        (filter.Model is { } model ? TableClient.CreateQueryFilter($" and Model eq {model}") : "") +
        (filter.State is { } state ? TableClient.CreateQueryFilter($" and State eq {state.ToWire()}") : "") +
        (filter.Status is { } status ? TableClient.CreateQueryFilter($" and Status eq {status}") : "");

    /// <summary>
    /// What a failed table call becomes: <see cref="StorageUnavailableException"/> when storage could not serve it, and
    /// a missing table (deleted, or a fresh emulator) is recreated on the retry; null for anything else.
    /// </summary>
    private StorageUnavailableException? Unavailable(Exception exception, CancellationToken cancellationToken)
    {
        if (exception is RequestFailedException { Status: 404 })
        {
            tables.UsageTableMissing();
            return new StorageUnavailableException("The usage table does not exist.", exception);
        }

        return exception is not StorageUnavailableException && StorageErrors.IsUnavailable(exception, cancellationToken)
            ? new StorageUnavailableException("The usage table could not be reached.", exception)
            : null;
    }
}
