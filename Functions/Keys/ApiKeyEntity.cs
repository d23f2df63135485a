using Azure;
using Azure.Data.Tables;

namespace Qhaigc.Functions.Keys;

/// <summary>
/// A key's table row. PartitionKey is the first 16 hex characters of the hash (the public id without its prefix),
/// RowKey the whole hash: a lookup by secret is a point read, a lookup by id reads one tiny partition.
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
    };
}
