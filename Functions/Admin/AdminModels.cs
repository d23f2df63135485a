using System.Text.Json;
using Qhaigc.Functions.Keys;

namespace Qhaigc.Functions.Admin;

/// <summary><c>POST /manage/keys</c> body.</summary>
public sealed record CreateKeyRequest
{
    public string? Name { get; init; }

    public string[]? Models { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public JsonElement? Limits { get; init; }
}

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

    /// <summary>The secret, present only in the answer that created the key.</summary>
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
        Key = secret,
    };
}

public sealed record KeyList(IReadOnlyList<KeyView> Data);

/// <summary>Totals of one key, day (UTC) and model.</summary>
public sealed record UsageTotal
{
    public required string KeyId { get; init; }

    public required string Day { get; init; }

    public required string Model { get; init; }

    public long Calls { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public long CacheCreationInputTokens { get; set; }

    public long CacheReadInputTokens { get; set; }

    /// <summary>Calls whose numbers are partly the gateway's estimate.</summary>
    public long EstimatedCalls { get; set; }
}

/// <summary><c>GET /manage/usage</c> answer: totals over the whole range, and one page of raw records.</summary>
public sealed record UsageReport
{
    public string? KeyId { get; init; }

    public required DateTimeOffset From { get; init; }

    public required DateTimeOffset To { get; init; }

    public required IReadOnlyList<UsageTotal> Totals { get; init; }

    public required IReadOnlyList<Usage.UsageRecord> Records { get; init; }

    /// <summary>Pass as <c>cursor</c> for the next page of records; null on the last page.</summary>
    public string? NextCursor { get; init; }
}
