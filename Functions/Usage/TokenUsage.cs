namespace Qhaigc.Functions.Usage;

/// <summary>Token counts of one call, as Anthropic reports them (docs/wire-contract.md#7-non-streaming-response): input excludes both cache fields.</summary>
public sealed class TokenUsage
{
    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public long CacheCreationInputTokens { get; set; }

    /// <summary>Part of <see cref="CacheCreationInputTokens"/> written with the 5-minute TTL, when the upstream says.</summary>
    public long? CacheCreation5mInputTokens { get; set; }

    /// <summary>Part of <see cref="CacheCreationInputTokens"/> written with the 1-hour TTL, when the upstream says.</summary>
    public long? CacheCreation1hInputTokens { get; set; }

    public long CacheReadInputTokens { get; set; }

    /// <summary>True when any number is the gateway's estimate rather than the upstream's report.</summary>
    public bool Estimated { get; set; }

    /// <summary>The upstream's usage object(s) exactly as received, as JSON text.</summary>
    public string? Raw { get; set; }
}
