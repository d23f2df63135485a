using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>
/// The shipped default table of Anthropic's list prices (docs/limits-and-prices.md#the-default-price-table): ids, dated
/// ids and aliases, under the operator's entries, versioned, off by setting or for another currency.
/// </summary>
public sealed class DefaultPricesTests
{
    [Theory]
    [InlineData("claude-opus-4-5", 5, 25)]
    [InlineData("claude-opus-4-5-20251101", 5, 25)]
    [InlineData("claude-opus-4-1-20250805", 15, 75)]
    [InlineData("claude-opus-4-20250514", 15, 75)]
    [InlineData("claude-opus-4-0", 15, 75)]
    [InlineData("claude-opus-5-5", 4, 20)]
    [InlineData("claude-sonnet-4-5-20250929", 3, 15)]
    [InlineData("claude-sonnet-4-6", 3, 15)]
    [InlineData("claude-sonnet-5-5", 2, 10)]
    [InlineData("claude-haiku-4-5-20251001", 1, 5)]
    [InlineData("claude-haiku-5-5", 0.1, 0.5)]
    [InlineData("claude-3-5-haiku-latest", 0.8, 4)]
    [InlineData("claude-3-5-haiku-20241022", 0.8, 4)]
    [InlineData("CLAUDE-HAIKU-4-5", 1, 5)]
    public void Find_PricesAnthropicModels_TheirDatedIdsAndAliases_AtListPrices(string model, double input, double output)
    {
        // Act
        var price = Read([]).Find(model);

        // Assert
        Assert.NotNull(price);
        Assert.Equal((decimal)input, price.Input);
        Assert.Equal((decimal)output, price.Output);
    }

    [Theory]
    [InlineData("claude-opus-4-5-preview")]
    [InlineData("claude-haiku-4-50")]
    [InlineData("gpt-4o")]
    [InlineData("claude-opus-4-5-2025")]
    public void Find_LeavesOtherNamesUnpriced_SoNoGlobPricesAModelItDoesNotKnow(string model)
    {
        // Act / Assert
        Assert.Null(Read([]).Find(model));
    }

    [Fact]
    public void Read_IsVersionedByTheDefaultTable_WhenTheOperatorSetsNoEntry()
    {
        // Act
        var table = Read([]);

        // Assert
        Assert.Equal(AnthropicListPrices.Version, table.Version);
        Assert.Equal(AnthropicListPrices.Version, table.DefaultsVersion);
        Assert.Equal(AnthropicListPrices.Entries.Count, table.Count);
        Assert.Equal(0, table.OperatorCount);
    }

    [Fact]
    public void Find_PrefersTheOperatorsEntry_EvenAGlob_OverTheDefaultTable()
    {
        // Arrange
        var table = Read(new() { ["claude-*:Input"] = "1", ["claude-*:Output"] = "2" });

        // Act / Assert: the operator's glob wins; the defaults still price what it does not match.
        Assert.Equal(2m, table.Find("claude-opus-4-5")!.Output);
        Assert.StartsWith("sha256:", table.Version, StringComparison.Ordinal);
        Assert.NotEqual(table.Version, Read(new() { ["claude-*:Input"] = "1", ["claude-*:Output"] = "2" }, new PricesOptions { Defaults = "none" }).Version);
    }

    [Fact]
    public void Read_SwitchesTheDefaultTableOff_ByTheSetting_OrForAnotherCurrency()
    {
        // Act
        var off = Read([], new PricesOptions { Defaults = "none" });
        var euro = Read([], new PricesOptions { Currency = "EUR" });
        var bad = Read([], new PricesOptions { Defaults = "anthropic-1999-01" });

        // Assert
        Assert.Null(off.Find("claude-opus-4-5"));
        Assert.Equal(0, off.Count);
        Assert.False(off.DefaultsSkippedForCurrency);
        Assert.Null(euro.Find("claude-opus-4-5"));
        Assert.True(euro.DefaultsSkippedForCurrency);
        Assert.Contains(bad.Errors, static e => e.StartsWith("Gateway:Prices:Defaults must be anthropic-2026-12 or none", StringComparison.Ordinal));
    }

    [Fact]
    public void Price_FollowsTheModelTheUpstreamServed_NotTheClientsAlias()
    {
        // Arrange: the client asked for an alias the operator mapped to Opus 4.5; the alias itself has no price.
        var table = Read([]);
        var record = Record("cheap-alias", upstreamModel: "claude-opus-4-5") with { InputTokens = 1_000_000 };

        // Act
        var priced = table.Price(record);

        // Assert
        Assert.Equal(5m, priced.Cost);
        Assert.Equal("USD", priced.Currency);
        Assert.Equal(AnthropicListPrices.Version, priced.PriceVersion);
        Assert.Null(table.Price(Record("cheap-alias", upstreamModel: null)).Cost);
    }

    [Fact]
    public void Price_BillsTheLongContextPremium_AboveItsThreshold_OnTheWholeCall()
    {
        // Arrange: Sonnet 4.5 at 3 / 15, twice the input and 1.5 times the output above 200,000 prompt tokens.
        var table = Read([]);
        var at = Record("claude-sonnet-4-5") with { InputTokens = 150_000, CacheReadInputTokens = 50_000, OutputTokens = 1_000 };
        var above = at with { InputTokens = 150_001 };

        // Act / Assert
        Assert.Equal((150_000 * 3m + 50_000 * 0.3m + 1_000 * 15m) / 1_000_000m, table.Price(at).Cost);
        Assert.Equal(((150_001 * 3m + 50_000 * 0.3m) * 2 + 1_000 * 15m * 1.5m) / 1_000_000m, table.Price(above).Cost);
    }

    [Fact]
    public void Price_BillsFastModeAtTheModelsMultiplier_AsTheUpstreamReportsIt()
    {
        // Arrange: Opus 5.5 at 4 / 20, fast mode twice that.
        var table = Read([]);
        var standard = Record("claude-opus-5-5") with { InputTokens = 1_000, OutputTokens = 1_000 };

        // Act / Assert
        Assert.Equal(0.024m, table.Price(standard).Cost);
        Assert.Equal(0.048m, table.Price(standard with { Speed = "fast" }).Cost);
        Assert.Equal(0.0264m, table.Price(standard with { InferenceGeo = "us" }).Cost);
        Assert.Equal(0.024m, table.Price(standard with { InferenceGeo = "global", ServiceTier = "standard", Speed = "standard" }).Cost);
    }

    private static UsageRecord Record(string model, string? upstreamModel = "") =>
        PriceSettings.Record(model, upstreamModel == "" ? model : upstreamModel);

    private static PriceTable Read(Dictionary<string, string?> prices, PricesOptions? options = null) =>
        PriceSettings.Read(prices, options ?? new PricesOptions());
}
