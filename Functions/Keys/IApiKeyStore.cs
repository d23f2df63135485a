using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Keys;

/// <summary>Where keys live. Every method throws <see cref="StorageUnavailableException"/> when storage cannot answer.</summary>
public interface IApiKeyStore
{
    /// <summary>
    /// The key one of whose secrets has this hash: a point read (two for a secret added by a rotation). The key's
    /// <see cref="ApiKey.SecretExpiresAt"/> says when that secret stops working.
    /// </summary>
    Task<ApiKey?> FindByHashAsync(string hash, CancellationToken cancellationToken);

    Task<ApiKey?> GetAsync(string id, CancellationToken cancellationToken);

    Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Adds a key; false when a key with the same hash exists already.</summary>
    Task<bool> CreateAsync(ApiKey key, CancellationToken cancellationToken);

    /// <summary>Replaces a key's settings (never its secrets); false when it does not exist.</summary>
    Task<bool> UpdateAsync(ApiKey key, CancellationToken cancellationToken);

    /// <summary>Removes a key and every secret of it; false when it did not exist.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Gives a key a new secret (whose hash is <paramref name="newSecret"/>'s <see cref="KeySecret.Hash"/>); every
    /// secret it had keeps working until <paramref name="oldSecretsExpireAt"/> at the latest. Null when the key does
    /// not exist; throws <see cref="InvalidOperationException"/> when it has too many secrets in their grace period.
    /// </summary>
    Task<ApiKey?> RotateAsync(string id, KeySecret newSecret, DateTimeOffset oldSecretsExpireAt, DateTimeOffset now, CancellationToken cancellationToken);
}
