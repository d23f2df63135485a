namespace Qhaigc.Functions.Keys;

/// <summary>What a rotation does to a key's secrets, the same in every key store (see docs/admin-api.md).</summary>
public static class KeyRotation
{
    /// <summary>
    /// The key's secrets after a rotation: those still working at <paramref name="now"/>, each stopping at
    /// <paramref name="oldSecretsExpireAt"/> at the latest, then <paramref name="newSecret"/>.
    /// </summary>
    public static KeySecret[] Secrets(ApiKey key, KeySecret newSecret, DateTimeOffset oldSecretsExpireAt, DateTimeOffset now) =>
        key.AllSecrets
            .Where(s => s.IsActiveAt(now))
            .Select(s => s with { ExpiresAt = s.ExpiresAt is { } at && at < oldSecretsExpireAt ? at : oldSecretsExpireAt })
            .Append(newSecret)
            .ToArray();
}
