using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Keys;

/// <summary>A client key as stored: never the secret, only its hash (DESIGN.md, "Keys").</summary>
public sealed record ApiKey
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    /// <summary>Lower-case hex SHA-256 of the secret.</summary>
    public required string Hash { get; init; }

    /// <summary>Start and end of the secret, for people to recognise it.</summary>
    public required string Hint { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public bool Disabled { get; init; }

    /// <summary>Glob patterns of the models this key may call; empty means every model.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];

    /// <summary>Limits as the operator set them (JSON object text), enforced by the governance layer.</summary>
    public string? LimitsJson { get; init; }

    public bool IsActiveAt(DateTimeOffset now) => !Disabled && (ExpiresAt is null || ExpiresAt > now);

    public bool AllowsModel(string model) => Models.Count == 0 || ModelPattern.MatchesAny(Models, model);
}
