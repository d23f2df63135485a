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
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            // The table is gone (deleted, or a fresh emulator): recreate it on the retry.
            tables.UsageTableMissing();
            throw new StorageUnavailableException("The usage table does not exist.", exception);
        }
        catch (Exception exception) when (exception is not StorageUnavailableException && StorageErrors.IsUnavailable(exception, cancellationToken))
        {
            throw new StorageUnavailableException("The usage table could not be reached.", exception);
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
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            tables.UsageTableMissing();
            throw new StorageUnavailableException("The usage table does not exist.", exception);
        }
        catch (Exception exception) when (exception is not StorageUnavailableException && StorageErrors.IsUnavailable(exception, cancellationToken))
        {
            throw new StorageUnavailableException("The usage table could not be reached.", exception);
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
        var low = UsageEntity.RowKeyPrefix(since);
        var high = UsageEntity.RowKeyPrefix(until);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {keyId} and RowKey ge {low} and RowKey lt {high}");
        await foreach (var entity in table.QueryAsync<UsageEntity>(filter, maxPerPage: 1000, cancellationToken: cancellationToken))
        {
            yield return entity.ToRecord();
        }
    }
}
