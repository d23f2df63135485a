using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>
/// <see cref="IApiKeyStore"/> in memory, for tests that call handlers directly: the same rows as
/// <see cref="TableApiKeyStore"/> (a key's row under its first secret's hash, a pointer row per secret added by a
/// rotation, mapped by <see cref="ApiKeyEntity"/>), so what comes back is what the table store returns.
/// <c>ApiKeyStoreContractTests</c> runs the same assertions against both.
/// </summary>
public sealed class InMemoryApiKeyStore : IApiKeyStore
{
    private readonly Lock _lock = new();

    /// <summary>Rows by row key (the hash), in the table's order within a partition.</summary>
    private readonly SortedDictionary<string, ApiKeyEntity> _rows = new(StringComparer.Ordinal);

    /// <summary>When true every call throws <see cref="StorageUnavailableException"/>, as the table store does in an outage.</summary>
    public bool Unavailable { get; set; }

    public Task<ApiKey?> FindByHashAsync(string hash, CancellationToken cancellationToken) =>
        Run(() =>
        {
            var entity = _rows.GetValueOrDefault(hash);
            if (entity?.AliasOf is { } keyHash)
            {
                entity = _rows.GetValueOrDefault(keyHash);
                if (entity?.AliasOf is not null)
                {
                    return null;
                }
            }

            var key = entity?.ToKey();
            return key?.SecretWithHash(hash) is { } secret ? key with { SecretExpiresAt = secret.ExpiresAt } : null;
        });

    public Task<ApiKey?> GetAsync(string id, CancellationToken cancellationToken) => Run(() => KeyRow(id)?.ToKey());

    public Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken cancellationToken) =>
        Run<IReadOnlyList<ApiKey>>(() =>
        {
            var keys = _rows.Values.Where(static e => e.AliasOf is null).Select(static e => e.ToKey()).ToList();
            keys.Sort(static (a, b) => b.CreatedAt.CompareTo(a.CreatedAt));
            return keys;
        });

    public Task<bool> CreateAsync(ApiKey key, CancellationToken cancellationToken) =>
        Run(() =>
        {
            if (KeyRow(key.Id) is not null || _rows.ContainsKey(key.Hash))
            {
                return false;
            }

            Store(ApiKeyEntity.From(key));
            return true;
        });

    public Task<bool> UpdateAsync(ApiKey key, CancellationToken cancellationToken) =>
        Run(() =>
        {
            var current = _rows.GetValueOrDefault(key.Hash);
            if (current is null || current.AliasOf is not null)
            {
                return false;
            }

            // As the table store: secrets belong to rotations, an update keeps what is stored.
            var entity = ApiKeyEntity.From(key);
            entity.Secrets = current.Secrets;
            entity.Hint = current.Hint;
            Store(entity);
            return true;
        });

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken) =>
        Run(() =>
        {
            var entity = KeyRow(id);
            if (entity is null)
            {
                return false;
            }

            foreach (var secret in entity.ToKey().Secrets)
            {
                _rows.Remove(secret.Hash);
            }

            _rows.Remove(entity.RowKey);
            return true;
        });

    public Task<ApiKey?> RotateAsync(
        string id, KeySecret newSecret, DateTimeOffset oldSecretsExpireAt, DateTimeOffset now, CancellationToken cancellationToken) =>
        Run(() =>
        {
            var entity = KeyRow(id);
            if (entity is null)
            {
                return null;
            }

            if (_rows.ContainsKey(newSecret.Hash))
            {
                // The table store's insert of the secret's row fails with a conflict here.
                throw new InvalidOperationException("A row with the new secret's hash exists already.");
            }

            var key = entity.ToKey();
            var kept = KeyRotation.Secrets(key, newSecret, oldSecretsExpireAt, now);
            if (kept.Length > TableApiKeyStore.MaxSecrets)
            {
                throw new InvalidOperationException($"The key has {kept.Length - 1} secrets in their grace period; at most {TableApiKeyStore.MaxSecrets - 1} may be.");
            }

            var rotated = key with { Secrets = kept, Hint = newSecret.Hint };
            Store(ApiKeyEntity.Alias(newSecret, entity.RowKey));
            Store(ApiKeyEntity.From(rotated));
            foreach (var expired in key.AllSecrets.Where(s => !s.IsActiveAt(now) && s.Hash != entity.RowKey))
            {
                _rows.Remove(expired.Hash);
            }

            return rotated;
        });

    /// <summary>The key's own row for an id: the first row of its partition that is not a secret's pointer.</summary>
    private ApiKeyEntity? KeyRow(string id) =>
        ApiKeyHasher.PartitionFromId(id) is { } partition
            ? _rows.Values.FirstOrDefault(e => e.PartitionKey == partition && e.AliasOf is null)
            : null;

    /// <summary>Keeps a row as the table gives it back: times in UTC.</summary>
    private void Store(ApiKeyEntity entity)
    {
        entity.CreatedAt = entity.CreatedAt.ToUniversalTime();
        entity.ExpiresAt = entity.ExpiresAt?.ToUniversalTime();
        _rows[entity.RowKey] = entity;
    }

    private Task<T> Run<T>(Func<T> operation)
    {
        if (Unavailable)
        {
            return Task.FromException<T>(new StorageUnavailableException("The in-memory key store is set unavailable."));
        }

        lock (_lock)
        {
            return Task.FromResult(operation());
        }
    }
}
