namespace Qhaigc.Functions.Usage;

/// <summary>
/// What the gateway can prove about a request's input before it runs (docs/limits-and-prices.md#what-a-hard-cap-guarantees):
/// <see cref="MeasuredTokens"/> is an upper bound on the tokens of every part it can measure (text never yields more
/// tokens than its UTF-8 bytes, plus fixed framing); <see cref="HasUnmeasured"/> says some part cannot be measured here
/// (a document or image by URL or file id, a PDF, an encrypted server-tool result, <c>mcp_servers</c>);
/// <see cref="ServerLoop"/> says the upstream may run several sampling iterations within the call (server tools,
/// <c>mcp_servers</c>), each billed with its whole context, and <see cref="MaxUses"/> bounds them when every server tool
/// states its <c>max_uses</c>.
/// </summary>
public readonly record struct InputBound(long MeasuredTokens, bool HasUnmeasured, bool ServerLoop, long? MaxUses, bool FetchedAtUse = false)
{
    /// <summary>
    /// True when an upstream's <c>count_tokens</c> can stand for the input: nothing is fetched when the call runs (a URL
    /// source could answer the count with a small file and the call with a large one) and no server tool loops.
    /// </summary>
    public bool CountStandsForInput => !FetchedAtUse && !ServerLoop;
}
