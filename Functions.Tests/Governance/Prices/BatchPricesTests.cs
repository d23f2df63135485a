using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>Batch prices (docs/limits-and-prices.md#batch-prices): <c>Gateway:Prices:BatchDiscount</c> and an entry's own.</summary>
public sealed class BatchPricesTests
{
    private static readonly Dictionary<string, string?> Entries = new()
    {
        ["sonnet:Models"] = "claude-sonnet-*",
        ["sonnet:Input"] = "3",
        ["sonnet:Output"] = "15",
        ["haiku:Models"] = "claude-haiku-*",
        ["haiku:Input"] = "1",
        ["haiku:Output"] = "5",
        ["haiku:BatchDiscount"] = "0.4",
    };

    [Fact]
    public void FindBatch_DiscountsEveryTokenPrice_ByTheTableOrTheEntry()
    {
        // Arrange
        var prices = PriceSettings.Read(Entries, new PricesOptions { Defaults = PricesOptions.NoDefaults });

        // Act
        var sonnet = prices.FindBatch("claude-sonnet-4-6")!;
        var haiku = prices.FindBatch("claude-haiku-4-5")!;

        // Assert: Anthropic's default half, cache prices included; the entry's own 0.4; server tools undiscounted.
        Assert.Empty(prices.Errors);
        Assert.Equal(0.5m, prices.BatchDiscount);
        Assert.Equal((1.5m, 7.5m, 1.875m, 3m, 0.15m), (sonnet.Input, sonnet.Output, sonnet.CacheWrite5m, sonnet.CacheWrite1h, sonnet.CacheRead));
        Assert.Equal((0.4m, 2m, 0.5m, 0.8m, 0.04m), (haiku.Input, haiku.Output, haiku.CacheWrite5m, haiku.CacheWrite1h, haiku.CacheRead));
        Assert.Equal(prices.Find("claude-sonnet-4-6")!.WebSearch, sonnet.WebSearch);
        Assert.Null(prices.FindBatch("gpt-unpriced"));
    }

    [Fact]
    public void PriceBatchResult_DoesNotApplyTheBatchServiceTierAgain()
    {
        // Arrange
        var prices = PriceSettings.Read(Entries, new PricesOptions { Defaults = PricesOptions.NoDefaults, BatchDiscount = 0.6m });
        var record = PriceSettings.Record("claude-sonnet-4-6", "claude-sonnet-4-6") with
        {
            InputTokens = 1000, OutputTokens = 100, ServiceTier = "batch",
        };

        // Act
        var batch = prices.PriceBatchResult(record);
        var call = prices.Price(record);

        // Assert: 1,000 × 1.8 + 100 × 9 at batch prices; a call reported on the batch tier pays its 0.5 multiplier.
        Assert.Equal(0.0027m, batch.Cost);
        Assert.Equal(0.00225m, call.Cost);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1.5")]
    public void Read_RefusesABatchDiscountOutsideZeroToOne_AtTheTableOrAnEntry(string discount)
    {
        // Arrange
        var entries = new Dictionary<string, string?>(Entries) { ["sonnet:BatchDiscount"] = discount };

        // Act
        var table = PriceSettings.Read(Entries, new PricesOptions { BatchDiscount = decimal.Parse(discount, System.Globalization.CultureInfo.InvariantCulture) });
        var entry = PriceSettings.Read(entries, new PricesOptions());

        // Assert
        Assert.Contains(table.Errors, static e => e.StartsWith("Gateway:Prices:BatchDiscount must be above 0 and at most 1", StringComparison.Ordinal));
        Assert.Contains(entry.Errors, static e => e.StartsWith("Gateway:Prices:sonnet:BatchDiscount must be above 0 and at most 1", StringComparison.Ordinal));
    }

    [Fact]
    public void Version_ChangesWithTheBatchDiscount()
    {
        // Arrange & Act
        var standard = PriceSettings.Read(Entries, new PricesOptions()).Version;
        var changed = PriceSettings.Read(Entries, new PricesOptions { BatchDiscount = 0.4m }).Version;
        var entryChanged = PriceSettings.Read(new Dictionary<string, string?>(Entries) { ["haiku:BatchDiscount"] = "0.3" }, new PricesOptions()).Version;
        var defaultsOnly = PriceSettings.Read([], new PricesOptions()).Version;
        var defaultsDiscounted = PriceSettings.Read([], new PricesOptions { BatchDiscount = 0.4m }).Version;

        // Assert
        Assert.NotEqual(standard, changed);
        Assert.NotEqual(standard, entryChanged);
        Assert.Equal(AnthropicListPrices.Version, defaultsOnly);
        Assert.StartsWith("sha256:", defaultsDiscounted, StringComparison.Ordinal);
    }
}
