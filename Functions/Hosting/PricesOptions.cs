namespace Qhaigc.Functions.Hosting;

/// <summary>
/// The scalar settings of <c>Gateway:Prices</c>. Every other child of that section is one price entry
/// (<c>Gateway:Prices:{model or glob}:Input|Output|CacheWrite5m|CacheWrite1h|CacheRead</c>), read by
/// <see cref="Governance.PriceTable"/>, because a model name is not a property name.
/// </summary>
public sealed class PricesOptions
{
    public const string Allow = "allow";
    public const string Refuse = "refuse";

    /// <summary>The <see cref="Defaults"/> value that switches the shipped price table off.</summary>
    public const string NoDefaults = "none";

    public const long DefaultServerToolUsesWithoutMax = 10;

    /// <summary>Anthropic's batch price: half the standard price of every token (https://platform.claude.com/docs/en/about-claude/pricing).</summary>
    public const decimal DefaultBatchDiscount = 0.5m;

    /// <summary>Names under <c>Gateway:Prices</c> that are settings, not price entries.</summary>
    public static IReadOnlyList<string> SettingNames { get; } =
        [nameof(Version), nameof(Currency), nameof(UnpricedModels), nameof(Defaults), nameof(ServerToolUsesWithoutMax), nameof(BatchDiscount)];

    /// <summary>Written into every usage record; unset means a hash of the price entries, so a change is always visible.</summary>
    public string? Version { get; set; }

    /// <summary>ISO 4217 code of every price and spend cap (the operator's currency).</summary>
    public string Currency { get; set; } = "USD";

    /// <summary><c>allow</c>: a model without a price runs and is recorded without a cost; <c>refuse</c>: 403.</summary>
    public string UnpricedModels { get; set; } = Allow;

    /// <summary>
    /// The shipped price table of Anthropic's list prices that prices every model the operator's entries do not
    /// (<see cref="Governance.AnthropicListPrices.Version"/>, the default), or <c>none</c>. It applies only when
    /// <see cref="Currency"/> is USD, its currency.
    /// </summary>
    public string Defaults { get; set; } = Governance.AnthropicListPrices.Version;

    /// <summary>
    /// Uses reserved for a web search or web fetch tool sent without <c>max_uses</c> by a key with a spend cap; 0 refuses
    /// such calls for capped keys instead.
    /// </summary>
    public long ServerToolUsesWithoutMax { get; set; } = DefaultServerToolUsesWithoutMax;

    /// <summary>
    /// What a message batch's tokens cost as a fraction of their standard price (above 0, at most 1); an entry's own
    /// <c>BatchDiscount</c> overrides it for its models (docs/limits-and-prices.md#batch-prices).
    /// </summary>
    public decimal BatchDiscount { get; set; } = DefaultBatchDiscount;
}
