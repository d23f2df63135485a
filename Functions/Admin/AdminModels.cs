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

/// <summary>One secret of a key as admins see it: never the secret or its hash.</summary>
public sealed record KeySecretView(string Hint, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);

/// <summary>A key's counters as they stand: the current minute window, the current spend period, running streams.</summary>
public sealed record LimitState
{
    public long Requests { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public required DateTimeOffset WindowReset { get; init; }

    public string? SpendPeriod { get; init; }

    public decimal Spent { get; init; }

    /// <summary>Worst cases reserved by calls still running.</summary>
    public decimal Reserved { get; init; }

    public string? Currency { get; init; }

    public long ActiveStreams { get; init; }
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
