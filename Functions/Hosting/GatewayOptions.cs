namespace Qhaigc.Functions.Hosting;

/// <summary>The <c>Gateway</c> configuration section (docs/configuration.md).</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>Secret for the administration API; unset means the API answers 404.</summary>
    public string? AdminKey { get; set; }

    /// <summary>
    /// A fixed development key that the gateway makes sure exists at start-up. Refused unless storage is the local
    /// emulator, so a well-known key can never reach a real deployment.
    /// </summary>
    public string? DevKey { get; set; }

    /// <summary>Largest accepted request body; Anthropic's limit for the Messages API is 32 MB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>How long a request body may send nothing before the gateway cuts it with a <c>408</c>, in both hosting modes.</summary>
    public TimeSpan RequestBodyStallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public StorageOptions Storage { get; set; } = new();

    public KeyCacheOptions Keys { get; set; } = new();

    public StreamingOptions Streaming { get; set; } = new();

    public UsageOptions Usage { get; set; } = new();

    public LimitsOptions Limits { get; set; } = new();

    public PricesOptions Prices { get; set; } = new();

    public ResilienceOptions Resilience { get; set; } = new();

    public RoutingOptions Routing { get; set; } = new();

    /// <summary>The built-in <c>local</c> upstream (docs/batches.md#local-batches).</summary>
    public LocalOptions Local { get; set; } = new();

    /// <summary>The Files API (docs/files.md).</summary>
    public FilesOptions Files { get; set; } = new();

    /// <summary>The telemetry opt-ins (docs/telemetry.md).</summary>
    public Telemetry.TelemetryOptions Telemetry { get; set; } = new();

    public Dictionary<string, UpstreamOptions> Upstreams { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

public sealed class StorageOptions
{
    /// <summary>Table Storage connection string; defaults to <c>AzureWebJobsStorage</c>, then Azurite.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Table endpoint used with <c>DefaultAzureCredential</c> (managed identity in Azure).</summary>
    public Uri? TableServiceUri { get; set; }

    public string KeysTable { get; set; } = "QhaigcKeys";

    public string UsageTable { get; set; } = "QhaigcUsage";

    /// <summary>Rate-limit windows, spend counters, stream slots and call reservations.</summary>
    public string LimitsTable { get; set; } = "QhaigcLimits";

    /// <summary>Which key owns each object that lives on an upstream account: message batches, files.</summary>
    public string ObjectsTable { get; set; } = "QhaigcObjects";

    /// <summary>
    /// Blob endpoint used with <c>DefaultAzureCredential</c> for the <c>local</c> upstream's files (docs/files.md#local-files);
    /// without it the blob service of the connection string in force is used.
    /// </summary>
    public Uri? BlobServiceUri { get; set; }

    /// <summary>The blob container the <c>local</c> upstream keeps uploaded files in, created on first use.</summary>
    public string FilesContainer { get; set; } = "qhaigc-files";
}

public sealed class KeyCacheOptions
{
    /// <summary>
    /// How long a found key is trusted without a table read; a revocation takes effect within this time plus one
    /// background read (docs/configuration.md#key-cache).
    /// </summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an unknown key is remembered as unknown.</summary>
    public TimeSpan NegativeCacheDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A cached key that expired less than this long ago is served at once while one background read refreshes it;
    /// while storage is unreachable or slow, it keeps working this long.
    /// </summary>
    public TimeSpan StaleGracePeriod { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Found keys an instance remembers; beyond it the least recently used is dropped.</summary>
    public int MaxEntries { get; set; } = 100_000;

    /// <summary>Unknown keys an instance remembers, apart from found keys, so a flood of random keys cannot push them out.</summary>
    public int MaxUnknownEntries { get; set; } = 10_000;

    /// <summary>Longest wait for the key table on the request path (a key not cached); then the call gets a retryable 529.</summary>
    public TimeSpan LookupTimeout { get; set; } = TimeSpan.FromSeconds(2);
}

public sealed class StreamingOptions
{
    /// <summary>A <c>ping</c> event is sent after this long without output (docs/wire-contract.md#93-ping).</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the gateway waits for the upstream's first event before it commits the 200 and keeps the response
    /// alive with pings (docs/wire-contract.md#9-stream-start-failures-and-keep-alive); Azure cuts a silent response at 230 s.
    /// </summary>
    public TimeSpan FirstEventTimeout { get; set; } = TimeSpan.FromSeconds(200);
}

public sealed class UsageOptions
{
    /// <summary>Attempts per usage record before it is logged as lost.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Delay before the first retry; doubled per attempt, capped at <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Records waiting to be written at most; beyond it new records are logged as lost, never dropped silently.</summary>
    public int QueueCapacity { get; set; } = 100_000;

    /// <summary>Concurrent table writes.</summary>
    public int Writers { get; set; } = 4;

    /// <summary>
    /// How long a writer gathers records after the first one arrives, so that calls a few milliseconds apart share one
    /// table transaction per key; zero writes each record as soon as it is queued.
    /// </summary>
    public TimeSpan BatchWindow { get; set; } = TimeSpan.FromMilliseconds(50);
}

/// <summary>
/// Retries, fallback and the circuit breaker (<c>Gateway:Resilience</c>), all before the first byte reaches the client.
/// The client's SDK retries too, so the gateway's own added wait stays short and bounded.
/// </summary>
public sealed class ResilienceOptions
{
    /// <summary>Upstream attempts per client call at most, over all the upstreams that serve its model.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Backoff before the second attempt on the same upstream; doubled per attempt, with jitter.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest backoff between two attempts.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// An upstream's <c>retry-after</c> up to this long is waited out before the same upstream is tried again; a
    /// longer one sends the call to the next upstream, or back to the client with the upstream's <c>retry-after</c>.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Total time one call may spend waiting between attempts.</summary>
    public TimeSpan MaxTotalDelay { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>Consecutive failures that open an upstream's circuit; 0 turns the breaker off.</summary>
    public int BreakerFailureThreshold { get; set; } = 5;

    /// <summary>How long an open circuit rests its upstream before one probe call is let through.</summary>
    public TimeSpan BreakerDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a deployment that refused the gateway's own credentials (<c>401</c>, <c>403</c>, <c>402</c> or a billing
    /// error) is taken out for every model before one probe call is let through (docs/faults.md#health).
    /// </summary>
    public TimeSpan CredentialFailureRest { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>How a call picks a member of an upstream pool (<c>Gateway:Routing</c>, docs/configuration.md#pools-and-affinity).</summary>
public sealed class RoutingOptions
{
    /// <summary>
    /// <c>session</c> (default): the <c>X-Claude-Code-Session-Id</c> header, else <c>metadata.user_id</c>, else the key's
    /// id keeps a conversation on one member; <c>key</c>: the key's id alone; <c>none</c>: weighted random per call.
    /// </summary>
    public string Affinity { get; set; } = Upstreams.AffinityModes.Session;
}

public sealed class UpstreamOptions
{
    /// <summary><c>anthropic</c>, <c>openai</c> or <c>local</c>.</summary>
    public string? Kind { get; set; }

    public Uri? BaseUrl { get; set; }

    public string? ApiKey { get; set; }

    /// <summary>Comma-separated glob patterns of the client model names this upstream serves.</summary>
    public string Models { get; set; } = "*";

    /// <summary>
    /// Upstreams whose patterns match a model equally specifically and share a priority form one pool; lower priorities
    /// are tried only when the whole pool above is unavailable (docs/configuration.md#pools-and-affinity).
    /// </summary>
    public int Priority { get; set; }

    /// <summary>This upstream's share of its pool's calls, relative to the other members' weights (a positive integer).</summary>
    public int Weight { get; set; } = 1;

    /// <summary>Client model name to upstream model name; a model not listed keeps its name.</summary>
    public Dictionary<string, string> ModelMap { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Time to establish a connection to the upstream.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest silence from the upstream (before headers, or between chunks) before the call is abandoned.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Optional: only these <c>anthropic-beta</c> values are forwarded (for hosts that reject unknown betas).</summary>
    public string? BetaAllowList { get; set; }

    /// <summary>
    /// Optional, comma-separated: client <c>anthropic-*</c> headers never sent to this upstream (every other one is
    /// forwarded as sent). <c>anthropic-version</c> cannot be dropped.
    /// </summary>
    public string? DropHeaders { get; set; }

    /// <summary>
    /// <c>openai</c> upstreams: the request field that carries the output limit, <c>max_completion_tokens</c> (default;
    /// OpenAI's current name, required by its reasoning models) or <c>max_tokens</c> (for servers that know only that).
    /// </summary>
    public string? MaxTokensParameter { get; set; }
}
