using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Keys;

/// <summary>Where keys live. Every method throws <see cref="StorageUnavailableException"/> when storage cannot answer.</summary>
public interface IApiKeyStore
{
    /// <summary>A point read by the secret's hash.</summary>
    Task<ApiKey?> FindByHashAsync(string hash, CancellationToken cancellationToken);

    Task<ApiKey?> GetAsync(string id, CancellationToken cancellationToken);

    Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Adds a key; false when a key with the same hash exists already.</summary>
    Task<bool> CreateAsync(ApiKey key, CancellationToken cancellationToken);

    /// <summary>Replaces a key; false when it does not exist.</summary>
    Task<bool> UpdateAsync(ApiKey key, CancellationToken cancellationToken);

    /// <summary>Removes a key; false when it did not exist.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);
}
