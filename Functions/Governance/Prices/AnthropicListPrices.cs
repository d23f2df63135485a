namespace Qhaigc.Functions.Governance;

/// <summary>
/// The price table the gateway ships: Anthropic's public list prices in US dollars per million tokens
/// (https://platform.claude.com/docs/en/about-claude/pricing), read for <see cref="Version"/>. Each model is priced
/// under its id, its dated ids (<c>-20YYMMDD</c>) and a <c>-latest</c> alias. The operator's own entries win over these
/// (docs/limits-and-prices.md#the-default-price-table); <c>Gateway:Prices:Defaults = none</c> switches them off.
/// </summary>
public static class AnthropicListPrices
{
    /// <summary>The version of this table; written into usage records priced with it alone.</summary>
    public const string Version = "anthropic-2026-12";

    /// <summary>The currency of these prices: they apply only to a gateway whose currency is the same.</summary>
    public const string Currency = "USD";

    private static readonly LongContextPrice Above200k = new(200_000, 2m, 1.5m);

    /// <summary>Fast mode at twice the standard prices (Opus 4.8 and later).</summary>
    private static readonly PriceMultipliers Fast2x = PriceMultipliers.Default.With([new(PriceMultipliers.Key(PriceMultipliers.Speed, "fast"), 2m)]);

    /// <summary>Fast mode at six times the standard prices (Opus 4.6 and 4.7, while they had it).</summary>
    private static readonly PriceMultipliers Fast6x = PriceMultipliers.Default.With([new(PriceMultipliers.Key(PriceMultipliers.Speed, "fast"), 6m)]);

    /// <summary>Entry name, the model ids it prices, and the price.</summary>
    public static IReadOnlyList<(string Name, string[] Models, ModelPrice Price)> Entries { get; } =
    [
        ("fable-5-1", Ids("claude-fable-5-1", "claude-mythos-5-1"), new(10m, 50m, 12.5m, 20m, 0.25m)),
        ("fable-5", Ids("claude-fable-5", "claude-mythos-5"), new(10m, 50m, 12.5m, 20m, 1m)),
        ("opus-5-5", Ids("claude-opus-5-5"), new ModelPrice(4m, 20m, 5m, 8m, 0.2m) { Multipliers = Fast2x }),
        ("opus-5", Ids("claude-opus-5", "claude-opus-4-8"), new ModelPrice(5m, 25m, 6.25m, 10m, 0.5m) { Multipliers = Fast2x }),
        ("opus-4-7", Ids("claude-opus-4-7"), new ModelPrice(5m, 25m, 6.25m, 10m, 0.5m) { Multipliers = Fast6x }),
        ("opus-4-6", Ids("claude-opus-4-6"), new ModelPrice(5m, 25m, 6.25m, 10m, 0.5m) { Multipliers = Fast6x, LongContext = Above200k }),
        ("opus-4-5", Ids("claude-opus-4-5"), new(5m, 25m, 6.25m, 10m, 0.5m)),
        ("opus-4", Ids("claude-opus-4-1", "claude-opus-4-0", "claude-opus-4"), new(15m, 75m, 18.75m, 30m, 1.5m)),
        ("sonnet-5-5", Ids("claude-sonnet-5-5"), new(2m, 10m, 2.5m, 4m, 0.1m)),
        ("sonnet-5", Ids("claude-sonnet-5"), new(2m, 10m, 2.5m, 4m, 0.2m)),
        ("sonnet-4", Ids("claude-sonnet-4-6", "claude-sonnet-4-5", "claude-sonnet-4-0", "claude-sonnet-4"),
            new ModelPrice(3m, 15m, 3.75m, 6m, 0.3m) { LongContext = Above200k }),
        ("sonnet-3-7", Ids("claude-3-7-sonnet"), new(3m, 15m, 3.75m, 6m, 0.3m)),
        ("haiku-5-5", Ids("claude-haiku-5-5"), new ModelPrice(0.1m, 0.5m, 0.125m, 0.2m, 0.01m) { LongContext = new(100_000, 5m, 5m) }),
        ("haiku-4-5", Ids("claude-haiku-4-5"), new(1m, 5m, 1.25m, 2m, 0.1m)),
        ("haiku-3-5", Ids("claude-3-5-haiku"), new(0.8m, 4m, 1m, 1.6m, 0.08m)),
        ("haiku-3", Ids("claude-3-haiku"), new(0.25m, 1.25m, 0.3m, 0.5m, 0.03m)),
    ];

    /// <summary>Each id, its dated ids and its <c>-latest</c> alias.</summary>
    private static string[] Ids(params string[] ids) => [.. ids.SelectMany(static id => new[] { id, id + "-20??????", id + "-latest" })];
}
