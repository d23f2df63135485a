using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Keys;

/// <summary>A client key as stored: never the secret, only its hash (docs/admin-api.md).</summary>
public sealed record ApiKey
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    /// <summary>Lower-case hex SHA-256 of the key's first secret: where the key's row lives, and what its id derives from.</summary>
    public required string Hash { get; init; }

    /// <summary>Start and end of the newest secret, for people to recognise it.</summary>
    public required string Hint { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public bool Disabled { get; init; }

    /// <summary>Glob patterns of the models this key may call; empty means every model.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];

    /// <summary>Limits as the operator set them (JSON object text), enforced by the governance layer.</summary>
    public string? LimitsJson { get; init; }

    /// <summary>Every secret of a key that has been rotated, the first one included; empty when it never was.</summary>
    public IReadOnlyList<KeySecret> Secrets { get; init; } = [];

    /// <summary>When the secret this key was looked up by stops working (a rotated-away secret's grace period).</summary>
    public DateTimeOffset? SecretExpiresAt { get; init; }

    /// <summary>The key's secrets, the implicit first one of a never-rotated key included.</summary>
    public IReadOnlyList<KeySecret> AllSecrets => Secrets.Count > 0 ? Secrets : [new KeySecret { Hash = Hash, Hint = Hint, CreatedAt = CreatedAt }];

    public bool IsActiveAt(DateTimeOffset now) =>
        !Disabled && (ExpiresAt is null || ExpiresAt > now) && (SecretExpiresAt is null || SecretExpiresAt > now);

    /// <summary>The secret with this hash, or null when it is not one of this key's.</summary>
    public KeySecret? SecretWithHash(string hash)
    {
        foreach (var secret in AllSecrets)
        {
            if (string.Equals(secret.Hash, hash, StringComparison.Ordinal))
            {
                return secret;
            }
        }

        return null;
    }

    public bool AllowsModel(string model) => Models.Count == 0 || ModelPattern.MatchesAny(Models, model);
}
