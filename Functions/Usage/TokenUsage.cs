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

    /// <summary><c>usage.server_tool_use.web_search_requests</c>: web searches the upstream ran (and bills per search), when reported.</summary>
    public long? WebSearchRequests { get; set; }

    /// <summary><c>usage.server_tool_use.web_fetch_requests</c>, when reported.</summary>
    public long? WebFetchRequests { get; set; }

    /// <summary><c>usage.service_tier</c>: the tier the call ran on (<c>standard</c>, <c>priority</c>, <c>batch</c>), when reported.</summary>
    public string? ServiceTier { get; set; }

    /// <summary><c>usage.speed</c>: <c>fast</c> when the call ran in fast mode, when reported.</summary>
    public string? Speed { get; set; }

    /// <summary><c>usage.inference_geo</c>: where inference ran, when reported.</summary>
    public string? InferenceGeo { get; set; }

    /// <summary>True when any number is the gateway's estimate rather than the upstream's report.</summary>
    public bool Estimated { get; set; }

    /// <summary>The upstream's usage object(s) exactly as received, as JSON text.</summary>
    public string? Raw { get; set; }
}
