namespace Qhaigc.Functions.Usage;

/// <summary>One billing-grade usage record per call, a row of the usage table. Never holds prompt or completion text, nor any key.</summary>
public sealed record UsageRecord
{
    public required string RequestId { get; init; }

    public required string KeyId { get; init; }

    /// <summary>The API operation, e.g. <c>messages</c>.</summary>
    public required string Endpoint { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>The message batch a <c>messages.batch</c> record is a result of (docs/usage-records.md#message-batches); null for a call.</summary>
    public string? BatchId { get; init; }

    public string? UpstreamRequestId { get; init; }

    public string? Model { get; init; }

    public string? Upstream { get; init; }

    public string? UpstreamModel { get; init; }

    public bool Stream { get; init; }

    public int Status { get; init; }

    public string? ErrorType { get; init; }

    public required UsageState State { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public long CacheCreationInputTokens { get; init; }

    public long? CacheCreation5mInputTokens { get; init; }

    public long? CacheCreation1hInputTokens { get; init; }

    public long CacheReadInputTokens { get; init; }

    /// <summary>Web searches the upstream ran (<c>usage.server_tool_use.web_search_requests</c>); null when not reported.</summary>
    public long? WebSearchRequests { get; init; }

    /// <summary>Web fetches the upstream ran (<c>usage.server_tool_use.web_fetch_requests</c>); null when not reported.</summary>
    public long? WebFetchRequests { get; init; }

    /// <summary>The service tier the upstream reports the call ran on (<c>usage.service_tier</c>).</summary>
    public string? ServiceTier { get; init; }

    /// <summary>The speed the upstream reports (<c>usage.speed</c>, <c>fast</c> in fast mode).</summary>
    public string? Speed { get; init; }

    /// <summary>Where the upstream reports inference ran (<c>usage.inference_geo</c>).</summary>
    public string? InferenceGeo { get; init; }

    public string? RawUsage { get; init; }

    public bool Estimated { get; init; }

    public double DurationMs { get; init; }

    public double? TimeToFirstByteMs { get; init; }

    /// <summary>The SDK's <c>x-stainless-retry-count</c>: each retry is a new billable call (docs/wire-contract.md#124-what-the-gateway-sends).</summary>
    public int? ClientRetryCount { get; init; }

    /// <summary>Claude Code's <c>X-Claude-Code-Session-Id</c>, when sent.</summary>
    public string? ClientSessionId { get; init; }

    /// <summary>What the call cost in <see cref="Currency"/>, to the micro-unit; null when its model has no price (or the row predates prices).</summary>
    public decimal? Cost { get; init; }

    /// <summary>ISO 4217 code of <see cref="Cost"/>.</summary>
    public string? Currency { get; init; }

    /// <summary>The version of the price table the cost was computed with (<c>Gateway:Prices:Version</c>, or a hash of the prices).</summary>
    public string? PriceVersion { get; init; }

    /// <summary>
    /// Upstream attempts the gateway made for the call (retries and fallbacks before the first byte, docs/faults.md); the
    /// record's <see cref="Upstream"/> is the last one. Null when the call never reached an upstream.
    /// </summary>
    public int? UpstreamAttempts { get; init; }

    /// <summary>
    /// The W3C trace id of the call's server span (the client's own, when it sent a <c>traceparent</c>); null when no
    /// telemetry exporter is configured (docs/telemetry.md).
    /// </summary>
    public string? TraceId { get; init; }

    /// <summary>
    /// A file operation's size in bytes (docs/files.md#usage-and-prices): the file uploaded, downloaded or deleted; null for
    /// every other call.
    /// </summary>
    public long? Bytes { get; init; }
}
