namespace Qhaigc.Functions.Hosting;

/// <summary><c>Gateway:Limits</c>: how per-key limits and spend caps are enforced across instances.</summary>
public sealed class LimitsOptions
{
    /// <summary>
    /// How long a call's reservation (its request, token estimate, worst-case cost and stream slot) is held without a
    /// renewal. A running call renews it every third of this time, so only a crashed instance's reservations lapse,
    /// and they stop counting this long after its last renewal.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Input token estimates (a tokenizer that is not Claude's) are multiplied by this before a token limit counts them,
    /// and so is the upstream's count before a <c>count-first</c> spend cap reserves it. Spend caps otherwise reserve a
    /// hard bound, not an estimate (docs/limits-and-prices.md#what-a-hard-cap-guarantees).
    /// </summary>
    public double InputEstimateMargin { get; set; } = 1.25;

    /// <summary>
    /// How a capped key's call reserves input the gateway cannot measure (a document or image by URL or file id, a PDF,
    /// server tools, <c>mcp_servers</c>): <c>reserve-worst-case</c> (the model's context window, the default) or
    /// <c>count-first</c> (the upstream's own <c>count_tokens</c> first, where the primary upstream counts; the worst case
    /// when it cannot). See docs/limits-and-prices.md#what-a-hard-cap-guarantees.
    /// </summary>
    public string UnmeasuredInput { get; set; } = UnmeasuredInputModes.ReserveWorstCase;

    /// <summary>The context window assumed for a model that <see cref="ContextWindows"/> does not name, in tokens.</summary>
    public long ContextWindowTokens { get; set; } = 200_000;

    /// <summary>The context window of a call that sends the <c>context-1m</c> beta (<c>anthropic-beta: context-1m-…</c>).</summary>
    public long LongContextWindowTokens { get; set; } = 1_000_000;

    /// <summary>Context windows per model name or glob (<c>"claude-sonnet-4*": 200000</c>); the longest matching pattern wins.</summary>
    public Dictionary<string, long> ContextWindows { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Sampling iterations assumed for one call with server tools or <c>mcp_servers</c> when no <c>max_uses</c> bounds
    /// them (Anthropic pauses a server-tool loop with <c>pause_turn</c> after this many by default).
    /// </summary>
    public int ServerToolIterations { get; set; } = 10;

    /// <summary>Attempts of one optimistic (ETag) update when other instances change the same counters.</summary>
    public int MaxConflictRetries { get; set; } = 40;

    /// <summary>Attempts to settle a finished call's reservation before it is logged as lost.</summary>
    public int SettleAttempts { get; set; } = 8;
}
