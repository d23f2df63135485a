using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Usage;

/// <summary>The usage table in Azure Table Storage (or Azurite).</summary>
public sealed class TableUsageStore(GatewayTables tables) : IUsageStore
{
    public async Task WriteAsync(UsageRecord record, CancellationToken cancellationToken)
    {
        try
        {
            var table = await tables.UsageAsync(cancellationToken);
            // Upsert (replace): writing the same call twice leaves one row with the same content.
            await table.UpsertEntityAsync(UsageEntity.From(record), TableUpdateMode.Replace, cancellationToken);
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    public async Task WriteBatchAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count <= 1)
        {
            if (records.Count == 1)
            {
                await WriteAsync(records[0], cancellationToken);
            }

            return;
        }

        try
        {
            var table = await tables.UsageAsync(cancellationToken);
            foreach (var transaction in Transactions(records))
            {
                if (tables.UsageBatch is { } batch)
                {
                    await batch.UpsertAsync(transaction, cancellationToken);
                }
                else
                {
                    await table.SubmitTransactionAsync(
                        transaction.ConvertAll(static row => new TableTransactionAction(TableTransactionActionType.UpsertReplace, row)), cancellationToken);
                }
            }
        }
        catch (Exception exception) when (Unavailable(exception, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    /// <summary>
    /// Upserts grouped as Table Storage allows one transaction: one partition (key), at most 100 rows, a few MB (rows
    /// carry the raw usage JSON, up to 64 KB each).
    /// </summary>
    private static IEnumerable<List<UsageEntity>> Transactions(IReadOnlyList<UsageRecord> records)
    {
        const int maxRows = 100;
        const long maxBytes = 2 * 1024 * 1024;
        foreach (var partition in records.GroupBy(static r => r.KeyId, StringComparer.Ordinal))
        {
            var transaction = new List<UsageEntity>(maxRows);
            long bytes = 0;
            foreach (var record in partition.DistinctBy(static r => r.RequestId, StringComparer.Ordinal))
            {
                var size = 2048 + 2L * ((record.RawUsage?.Length ?? 0) + (record.Model?.Length ?? 0) + (record.UpstreamModel?.Length ?? 0) +
                                        (record.ErrorType?.Length ?? 0) + (record.ClientSessionId?.Length ?? 0) + (record.UpstreamRequestId?.Length ?? 0));
                if (transaction.Count == maxRows || (transaction.Count > 0 && bytes + size > maxBytes))
                {
                    yield return transaction;
                    transaction = new List<UsageEntity>(maxRows);
                    bytes = 0;
                }

                transaction.Add(UsageEntity.From(record));
                bytes += size;
            }

            if (transaction.Count > 0)
            {
                yield return transaction;
            }
        }
    }

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
    public async Task<UsagePage> QueryPageAsync(
        string keyId, DateTimeOffset since, DateTimeOffset until, string? continuationToken, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, 1000);
        try
        {
            var table = await tables.UsageAsync(cancellationToken);
            var pages = table.QueryAsync<UsageEntity>(Range(keyId, since, until), cancellationToken: cancellationToken)
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
