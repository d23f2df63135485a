using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Usage;

/// <summary>The usage ledger in Azure Table Storage (or Azurite).</summary>
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
