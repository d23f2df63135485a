using Azure;
using Azure.Data.Tables;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Keys;

/// <summary>Keys in Azure Table Storage (or Azurite), hash only.</summary>
public sealed class TableApiKeyStore(GatewayTables tables) : IApiKeyStore
{
    public Task<ApiKey?> FindByHashAsync(string hash, CancellationToken cancellationToken) =>
        RunAsync(async table =>
        {
            var response = await table.GetEntityIfExistsAsync<ApiKeyEntity>(
                ApiKeyHasher.PartitionFromHash(hash), hash, cancellationToken: cancellationToken);
            return response.HasValue ? response.Value!.ToKey() : null;
        }, cancellationToken);

    public Task<ApiKey?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var partition = ApiKeyHasher.PartitionFromId(id);
        if (partition is null)
        {
            return Task.FromResult<ApiKey?>(null);
        }

        return RunAsync(async table =>
        {
            await foreach (var entity in table.QueryAsync<ApiKeyEntity>(
                TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), maxPerPage: 2, cancellationToken: cancellationToken))
            {
                return entity.ToKey();
            }

            return null;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<ApiKey>>(async table =>
        {
            var keys = new List<ApiKey>();
            await foreach (var entity in table.QueryAsync<ApiKeyEntity>(cancellationToken: cancellationToken))
            {
                keys.Add(entity.ToKey());
            }

            keys.Sort(static (a, b) => b.CreatedAt.CompareTo(a.CreatedAt));
            return keys;
        }, cancellationToken);

    public Task<bool> CreateAsync(ApiKey key, CancellationToken cancellationToken) =>
        RunAsync(async table =>
        {
            // One key per id: ids are 64 bits of the hash, so refuse the (astronomically unlikely) collision too.
            if (await GetAsync(key.Id, cancellationToken) is not null)
            {
                return false;
            }

            try
            {
                await table.AddEntityAsync(ApiKeyEntity.From(key), cancellationToken);
                return true;
            }
            catch (RequestFailedException exception) when (exception.Status == 409)
            {
                return false;
            }
        }, cancellationToken);

    public Task<bool> UpdateAsync(ApiKey key, CancellationToken cancellationToken) =>
        RunAsync(async table =>
        {
            try
            {
                await table.UpdateEntityAsync(ApiKeyEntity.From(key), ETag.All, TableUpdateMode.Replace, cancellationToken);
                return true;
            }
            catch (RequestFailedException exception) when (exception.Status == 404)
            {
                return false;
            }
        }, cancellationToken);

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken) =>
        RunAsync(async table =>
        {
            var key = await GetAsync(id, cancellationToken);
            if (key is null)
            {
                return false;
            }

            await table.DeleteEntityAsync(ApiKeyHasher.PartitionFromHash(key.Hash), key.Hash, ETag.All, cancellationToken);
            return true;
        }, cancellationToken);

    private async Task<T> RunAsync<T>(Func<TableClient, Task<T>> operation, CancellationToken cancellationToken)
    {
        try
        {
            var table = await tables.KeysAsync(cancellationToken);
            return await operation(table);
        }
        catch (Exception exception) when (exception is not StorageUnavailableException && StorageErrors.IsUnavailable(exception, cancellationToken))
        {
            throw new StorageUnavailableException("The key table could not be reached.", exception);
        }
    }
}
