namespace Qhaigc.Functions.Governance;

/// <summary>
/// Prices of one model in the operator's currency per million tokens. A price per million tokens is also the price of
/// one token in micro-units, so a cost in micro-units is an exact sum of tokens times prices.
/// </summary>
public sealed record ModelPrice(decimal Input, decimal Output, decimal CacheWrite5m, decimal CacheWrite1h, decimal CacheRead)
{
    /// <summary>Anthropic's cache multipliers of the input price, used when an entry names no cache price of its own.</summary>
    public const decimal CacheWrite5mFactor = 1.25m;
    public const decimal CacheWrite1hFactor = 2m;
    public const decimal CacheReadFactor = 0.1m;

    /// <summary>The unrounded cost in micro-units.</summary>
    public decimal ExactMicros(BillableTokens tokens) =>
        (tokens.Input * Input) + (tokens.Output * Output) + (tokens.CacheWrite5m * CacheWrite5m) +
        (tokens.CacheWrite1h * CacheWrite1h) + (tokens.CacheRead * CacheRead);

    /// <summary>The cost recorded for a call: micro-units, rounded once to the nearest.</summary>
    public long CostMicros(BillableTokens tokens) => Money.RoundMicros(ExactMicros(tokens));

    /// <summary>
    /// The most a call can cost: every output token up to <c>max_tokens</c>, and the input estimate at the dearest
    /// input-side price when the request may write to the cache (it names <c>cache_control</c>), else at the input price.
    /// </summary>
    public long WorstCaseMicros(long inputEstimate, long maxOutputTokens, bool mayWriteCache)
    {
        var inputPrice = mayWriteCache ? Math.Max(Input, Math.Max(CacheWrite5m, CacheWrite1h)) : Input;
        return Money.CeilingMicros((inputEstimate * inputPrice) + (maxOutputTokens * Output));
    }
}
