namespace Qhaigc.Functions.Governance;

/// <summary>
/// Prices of one model in the operator's currency per million tokens. A price per million tokens is also the price of
/// one token in micro-units, so a cost in micro-units is an exact sum of tokens times prices. Beyond tokens: server
/// tools per 1,000 uses, a long-context premium, and multipliers for the options that change the price
/// (docs/limits-and-prices.md#priced-options-and-server-tools).
/// </summary>
public sealed record ModelPrice(decimal Input, decimal Output, decimal CacheWrite5m, decimal CacheWrite1h, decimal CacheRead)
{
    /// <summary>Anthropic's cache multipliers of the input price, used when an entry names no cache price of its own.</summary>
    public const decimal CacheWrite5mFactor = 1.25m;
    public const decimal CacheWrite1hFactor = 2m;
    public const decimal CacheReadFactor = 0.1m;

    /// <summary>Anthropic's web search price: 10 per 1,000 searches (https://platform.claude.com/docs/en/about-claude/pricing).</summary>
    public const decimal WebSearchDefault = 10m;

    /// <summary>Price of 1,000 web searches (<c>usage.server_tool_use.web_search_requests</c>).</summary>
    public decimal WebSearch { get; init; } = WebSearchDefault;

    /// <summary>Price of 1,000 web fetches (<c>usage.server_tool_use.web_fetch_requests</c>); Anthropic charges only the tokens fetched.</summary>
    public decimal WebFetch { get; init; }

    /// <summary>The long-context premium of the model, if it has one.</summary>
    public LongContextPrice? LongContext { get; init; }

    public PriceMultipliers Multipliers { get; init; } = PriceMultipliers.Default;

    /// <summary>This entry's own batch discount (<c>Gateway:Prices:{entry}:BatchDiscount</c>); null: the table's.</summary>
    public decimal? BatchDiscount { get; init; }

    /// <summary>
    /// The price of a message batch's results: every token price (input, output, cache writes, cache reads) times the
    /// batch discount, this entry's own or else <paramref name="tableDiscount"/>. Server tools keep their price per use:
    /// Anthropic's batch discount is on tokens (docs/limits-and-prices.md#batch-prices).
    /// </summary>
    public ModelPrice AtBatchPrices(decimal tableDiscount)
    {
        var discount = BatchDiscount ?? tableDiscount;
        return this with
        {
            Input = Input * discount,
            Output = Output * discount,
            CacheWrite5m = CacheWrite5m * discount,
            CacheWrite1h = CacheWrite1h * discount,
            CacheRead = CacheRead * discount,
            BatchDiscount = 1m,
        };
    }

    /// <summary>The unrounded cost in micro-units, at the standard options.</summary>
    public decimal ExactMicros(BillableTokens tokens) => ExactMicros(tokens, default);

    /// <summary>The unrounded cost in micro-units of tokens and server-tool uses, with the options the upstream reported.</summary>
    public decimal ExactMicros(BillableTokens tokens, PriceConditions conditions)
    {
        var (inputFactor, outputFactor) = LongContextFactors(tokens.Prompt);
        var inputSide = (tokens.Input * Input) + (tokens.CacheWrite5m * CacheWrite5m) + (tokens.CacheWrite1h * CacheWrite1h) + (tokens.CacheRead * CacheRead);
        var tokenCost = ((inputSide * inputFactor) + (tokens.Output * Output * outputFactor)) * Multipliers.Billed(conditions);
        return tokenCost + ToolMicros(tokens.WebSearches, tokens.WebFetches);
    }

    /// <summary>The cost recorded for a call: micro-units, rounded once to the nearest.</summary>
    public long CostMicros(BillableTokens tokens) => Money.RoundMicros(ExactMicros(tokens));

    /// <inheritdoc cref="CostMicros(BillableTokens)"/>
    public long CostMicros(BillableTokens tokens, PriceConditions conditions) => Money.RoundMicros(ExactMicros(tokens, conditions));

    /// <summary>
    /// The most a call can cost: every output token up to <c>max_tokens</c>, and the input estimate at the dearest
    /// input-side price when the request may write to the cache (it names <c>cache_control</c>), else at the input price;
    /// times the long-context premium when the estimate is above its threshold and the multiplier of the options the
    /// request asks for; plus every server-tool use it allows. Callers check <see cref="Unpriceable"/> first.
    /// </summary>
    public long WorstCaseMicros(long inputEstimate, long maxOutputTokens, bool mayWriteCache, PricedRequest? request = null)
    {
        request ??= PricedRequest.None;
        var inputPrice = mayWriteCache ? Math.Max(Input, Math.Max(CacheWrite5m, CacheWrite1h)) : Input;
        var (inputFactor, outputFactor) = LongContextFactors(inputEstimate);
        var multiplier = Multipliers.Reserved(request, out _) ?? 1m;
        var tokens = ((inputEstimate * inputPrice * inputFactor) + (maxOutputTokens * Output * outputFactor)) * multiplier;
        return Money.CeilingMicros(tokens + ToolMicros(request.WebSearchUses, request.WebFetchUses));
    }

    /// <summary>Why a call asking for these options cannot be priced with this price (so a capped key must not run it), or null.</summary>
    public string? Unpriceable(PricedRequest request)
    {
        if (request.UnpricedTool is { } tool)
        {
            return $"the server tool '{tool}' is billed by the upstream in a way the gateway cannot see per call";
        }

        if (request.UnboundedTool is { } unbounded)
        {
            return $"the server tool '{unbounded}' sets no max_uses";
        }

        return Multipliers.Reserved(request, out var problem) is null ? $"{problem} has no price for this model" : null;
    }

    private (decimal Input, decimal Output) LongContextFactors(long prompt) =>
        LongContext is { } premium && prompt > premium.AboveTokens ? (premium.InputFactor, premium.OutputFactor) : (1m, 1m);

    /// <summary>Server tools are priced per 1,000 uses: one use costs price × 1,000 micro-units.</summary>
    private decimal ToolMicros(long webSearches, long webFetches) => ((webSearches * WebSearch) + (webFetches * WebFetch)) * 1000m;
}
