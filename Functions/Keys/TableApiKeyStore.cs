using Azure;
using Azure.Data.Tables;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Keys;

/// <summary>Keys in Azure Table Storage (or Azurite), hash only.</summary>
public sealed class TableApiKeyStore(GatewayTables tables) : IApiKeyStore
{
    /// <summary>Secrets a key may have at once (the newest and those still in a grace period).</summary>
    public const int MaxSecrets = 20;

    private const int MaxConflictRetries = 10;

    public Task<ApiKey?> FindByHashAsync(string hash, CancellationToken cancellationToken) =>
        RunAsync(async table =>
        {
            var entity = await ReadAsync(table, hash, cancellationToken);
            if (entity?.AliasOf is { } keyHash)
            {
                // A secret added by a rotation: its row points at the key's row, which says whether it still works.
                entity = await ReadAsync(table, keyHash, cancellationToken);
                if (entity?.AliasOf is not null)
                {
                    return null;
                }
            }

            var key = entity?.ToKey();
            return key?.SecretWithHash(hash) is { } secret ? key with { SecretExpiresAt = secret.ExpiresAt } : null;
        }, cancellationToken, ensureTable: false);

    public Task<ApiKey?> GetAsync(string id, CancellationToken cancellationToken) =>
        RunAsync(async table => (await GetEntityAsync(table, id, cancellationToken))?.ToKey(), cancellationToken);

    public Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<ApiKey>>(async table =>
        {
            var keys = new List<ApiKey>();
            await foreach (var entity in table.QueryAsync<ApiKeyEntity>(cancellationToken: cancellationToken))
            {
                if (entity.AliasOf is null)
                {
                    keys.Add(entity.ToKey());
                }
            }

            keys.Sort(static (a, b) => b.CreatedAt.CompareTo(a.CreatedAt));
            return keys;
        }, cancellationToken);

    public Task<bool> CreateAsync(ApiKey key, CancellationToken cancellationToken) =>
        RunAsync(async table =>
        {
            // One key per id: ids are 64 bits of the hash, so refuse the (astronomically unlikely) collision too.
            if (await GetEntityAsync(table, key.Id, cancellationToken) is not null)
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
            for (var attempt = 1; ; attempt++)
            {
                var current = await ReadAsync(table, key.Hash, cancellationToken);
                if (current is null || current.AliasOf is not null)
                {
                    return false;
                }

                // Secrets belong to rotations: an update carries over what is stored, conditional on nobody
                // rotating in between, so a settings change can never undo a rotation.
                var entity = ApiKeyEntity.From(key);
                entity.Secrets = current.Secrets;
                entity.Hint = current.Hint;
                try
                {
                    await table.UpdateEntityAsync(entity, current.ETag, TableUpdateMode.Replace, cancellationToken);
                    return true;
                }
                catch (RequestFailedException exception) when (exception.Status is 404 or 412 && attempt < MaxConflictRetries)
                {
                }
            }
        }, cancellationToken);

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken) =>
        RunAsync(async table =>
        {
            var entity = await GetEntityAsync(table, id, cancellationToken);
            if (entity is null)
            {
                return false;
            }

            foreach (var secret in entity.ToKey().Secrets.Where(s => s.Hash != entity.RowKey))
            {
                await DeleteIfExistsAsync(table, secret.Hash, cancellationToken);
            }

            await table.DeleteEntityAsync(entity.PartitionKey, entity.RowKey, ETag.All, cancellationToken);
            return true;
        }, cancellationToken);

    public Task<ApiKey?> RotateAsync(
        string id, KeySecret newSecret, DateTimeOffset oldSecretsExpireAt, DateTimeOffset now, CancellationToken cancellationToken) =>
        RunAsync(async table =>
        {
            var keyHash = (await GetEntityAsync(table, id, cancellationToken))?.RowKey;
            if (keyHash is null)
            {
                return null;
            }

            // The new secret's row first: until the key's row lists it, it opens nothing.
            await table.AddEntityAsync(ApiKeyEntity.Alias(newSecret, keyHash), cancellationToken);
            for (var attempt = 1; ; attempt++)
            {
                var entity = await ReadAsync(table, keyHash, cancellationToken);
                if (entity is null)
                {
                    await DeleteIfExistsAsync(table, newSecret.Hash, cancellationToken);
                    return null;
                }

                var key = entity.ToKey();
                var kept = KeyRotation.Secrets(key, newSecret, oldSecretsExpireAt, now);
                if (kept.Length > MaxSecrets)
                {
                    await DeleteIfExistsAsync(table, newSecret.Hash, cancellationToken);
                    throw new InvalidOperationException($"The key has {kept.Length - 1} secrets in their grace period; at most {MaxSecrets - 1} may be.");
                }

                var rotated = key with { Secrets = kept, Hint = newSecret.Hint };
                try
                {
                    await table.UpdateEntityAsync(ApiKeyEntity.From(rotated), entity.ETag, TableUpdateMode.Replace, cancellationToken);
                }
                catch (RequestFailedException exception) when (exception.Status == 412 && attempt < MaxConflictRetries)
                {
                    continue;
                }

                // Secrets whose grace period is over are forgotten: their rows go (the key's own row stays: it is the key).
                foreach (var expired in key.AllSecrets.Where(s => !s.IsActiveAt(now) && s.Hash != keyHash))
                {
                    await DeleteIfExistsAsync(table, expired.Hash, cancellationToken);
                }

                return rotated;
            }
        }, cancellationToken);

    /// <summary>
    /// A point read, mapped by hand from the SDK's dictionary row: no reflection-built binder on the request path. A table
    /// that does not exist yet has no rows (404, as a missing row).
    /// </summary>
    private static async Task<ApiKeyEntity?> ReadAsync(TableClient table, string hash, CancellationToken cancellationToken)
    {
        var response = await table.GetEntityIfExistsAsync<TableEntity>(ApiKeyHasher.PartitionFromHash(hash), hash, cancellationToken: cancellationToken);
        return response.HasValue ? ApiKeyEntity.FromRow(response.Value!) : null;
    }

    /// <summary>The key's own row (never a rotated secret's pointer row) for an id.</summary>
    private static async Task<ApiKeyEntity?> GetEntityAsync(TableClient table, string id, CancellationToken cancellationToken)
    {
        var partition = ApiKeyHasher.PartitionFromId(id);
        if (partition is null)
        {
            return null;
        }

        await foreach (var entity in table.QueryAsync<ApiKeyEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), maxPerPage: 4, cancellationToken: cancellationToken))
        {
            if (entity.AliasOf is null)
            {
                return entity;
            }
        }

        return null;
    }

    private static async Task DeleteIfExistsAsync(TableClient table, string hash, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(ApiKeyHasher.PartitionFromHash(hash), hash, ETag.All, cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
        }
    }

    private async Task<T> RunAsync<T>(Func<TableClient, Task<T>> operation, CancellationToken cancellationToken, bool ensureTable = true)
    {
        try
        {
            var table = ensureTable ? await tables.KeysAsync(cancellationToken) : tables.KeysForReading();
            return await operation(table);
        }
        catch (Exception exception) when (exception is not StorageUnavailableException && StorageErrors.IsUnavailable(exception, cancellationToken))
        {
            throw new StorageUnavailableException("The key table could not be reached.", exception);
        }
    }
}
