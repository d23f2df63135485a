namespace Qhaigc.Functions.Admin.Usage;

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
