namespace Qhaigc.Functions.Keys;

/// <summary>
/// One secret of a rotated key: its hash (never the secret), its hint, and when it stops working (null: until the next
/// rotation). A key that was never rotated has one implicit secret, its own <see cref="ApiKey.Hash"/>.
/// </summary>
public sealed record KeySecret
{
    public required string Hash { get; init; }

    public required string Hint { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public bool IsActiveAt(DateTimeOffset now) => ExpiresAt is null || ExpiresAt > now;
}
