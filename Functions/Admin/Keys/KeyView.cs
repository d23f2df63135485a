using System.Text.Json;
using Qhaigc.Functions.Keys;

namespace Qhaigc.Functions.Admin.Keys;

/// <summary>A key as the admin API shows it: never the secret or its hash, only a hint.</summary>
public sealed record KeyView
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string Hint { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public bool Disabled { get; init; }

    public required IReadOnlyList<string> Models { get; init; }

    public JsonElement? Limits { get; init; }

    /// <summary>The key's secrets (hints only) and when each stops working; more than one during a rotation's grace period.</summary>
    public IReadOnlyList<KeySecretView> Secrets { get; init; } = [];

    /// <summary>What the key has used of its limits right now (only for a key with limits, on <c>GET /manage/keys/{id}</c>).</summary>
    public LimitState? Current { get; init; }

    /// <summary>The secret, present only in the answer that created the key or rotated it.</summary>
    public string? Key { get; init; }

    public static KeyView From(ApiKey key, string? secret = null) => new()
    {
        Id = key.Id,
        Name = key.Name,
        Hint = key.Hint,
        CreatedAt = key.CreatedAt,
        ExpiresAt = key.ExpiresAt,
        Disabled = key.Disabled,
        Models = key.Models,
        Limits = key.LimitsJson is null ? null : JsonDocument.Parse(key.LimitsJson).RootElement.Clone(),
        Secrets = key.AllSecrets.Select(static s => new KeySecretView(s.Hint, s.CreatedAt, s.ExpiresAt)).ToArray(),
        Key = secret,
    };
}
