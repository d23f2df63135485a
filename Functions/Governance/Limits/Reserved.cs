namespace Qhaigc.Functions.Governance;

/// <summary>
/// What an admitted call reserved, for its settlement: tokens in its minute window, worst-case spend in its period,
/// a stream slot. <see cref="HasHold"/> says whether a hold row stands for the spend and the slot.
/// </summary>
public sealed record Reserved
{
    public required string KeyId { get; init; }

    public required string RequestId { get; init; }

    /// <summary>The window the tokens were charged to; null when the key has no token limit.</summary>
    public DateTimeOffset? WindowStart { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public string? SpendPeriod { get; init; }

    public long ReservedMicros { get; init; }

    public bool Stream { get; init; }

    public bool HasHold => SpendPeriod is not null || Stream;

    /// <summary>True when nothing needs settling (a key with only a request limit).</summary>
    public bool IsEmpty => WindowStart is null && !HasHold;
}
