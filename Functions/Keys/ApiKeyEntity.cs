using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Keys;

/// <summary>
/// A key's table row. PartitionKey is the first 16 hex characters of the hash (the public id without its prefix),
/// RowKey the whole hash: a lookup by secret is a point read, a lookup by id reads one tiny partition. A secret added
/// by a rotation has a row of the same shape for its own hash that only points at the key's row (<see cref="AliasOf"/>);
/// the key's row lists every secret and when each stops working (<see cref="Secrets"/>).
/// </summary>
public sealed class ApiKeyEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string Name { get; set; } = "";

    public string Hint { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public bool Disabled { get; set; }

    /// <summary>Comma-separated glob patterns.</summary>
    public string? Models { get; set; }

    public string? Limits { get; set; }

    /// <summary>On a rotated secret's row: the hash (row key) of the key's own row. Null on a key's row.</summary>
    public string? AliasOf { get; set; }

    /// <summary>JSON list of the key's secrets (hashes, hints, expiries) once it has been rotated; null before.</summary>
    public string? Secrets { get; set; }

    public static ApiKeyEntity From(ApiKey key) => new()
    {
        PartitionKey = ApiKeyHasher.PartitionFromHash(key.Hash),
        RowKey = key.Hash,
        Name = key.Name,
        Hint = key.Hint,
        CreatedAt = key.CreatedAt,
        ExpiresAt = key.ExpiresAt,
        Disabled = key.Disabled,
        Models = key.Models.Count == 0 ? null : string.Join(',', key.Models),
        Limits = key.LimitsJson,
        Secrets = key.Secrets.Count == 0 ? null : JsonSerializer.Serialize(key.Secrets.ToArray(), GatewayJsonContext.Default.KeySecretArray),
    };

    /// <summary>The row of a secret added by a rotation: a pointer to the key's row.</summary>
    public static ApiKeyEntity Alias(KeySecret secret, string keyHash) => new()
    {
        PartitionKey = ApiKeyHasher.PartitionFromHash(secret.Hash),
        RowKey = secret.Hash,
        Hint = secret.Hint,
        CreatedAt = secret.CreatedAt,
        AliasOf = keyHash,
    };

    /// <summary>The entity from a row read as the SDK's dictionary (the same columns <see cref="From"/> writes).</summary>
    public static ApiKeyEntity FromRow(TableEntity row) => new()
    {
        PartitionKey = row.PartitionKey,
        RowKey = row.RowKey,
        Timestamp = row.Timestamp,
        ETag = row.ETag,
        Name = row.GetString(nameof(Name)) ?? "",
        Hint = row.GetString(nameof(Hint)) ?? "",
        CreatedAt = row.GetDateTimeOffset(nameof(CreatedAt)) ?? default,
        ExpiresAt = row.GetDateTimeOffset(nameof(ExpiresAt)),
        Disabled = row.GetBoolean(nameof(Disabled)) ?? false,
        Models = row.GetString(nameof(Models)),
        Limits = row.GetString(nameof(Limits)),
        AliasOf = row.GetString(nameof(AliasOf)),
        Secrets = row.GetString(nameof(Secrets)),
    };

    public ApiKey ToKey() => new()
    {
        Id = ApiKeyHasher.IdFromHash(RowKey),
        Name = Name,
        Hash = RowKey,
        Hint = Hint,
        CreatedAt = CreatedAt,
        ExpiresAt = ExpiresAt,
        Disabled = Disabled,
        Models = Upstreams.ModelPattern.Parse(Models),
        LimitsJson = Limits,
        Secrets = string.IsNullOrEmpty(Secrets) ? [] : JsonSerializer.Deserialize(Secrets, GatewayJsonContext.Default.KeySecretArray) ?? [],
    };
}
