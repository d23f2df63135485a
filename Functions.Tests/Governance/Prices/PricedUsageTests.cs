using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>
/// Usage fields beyond tokens that change a call's price (docs/limits-and-prices.md#priced-options-and-server-tools):
/// server-tool uses at a price per 1,000, multipliers for speed, region and tier, and how an entry sets each.
/// </summary>
public sealed class PricedUsageTests
{
    [Fact]
    public void Price_BillsEveryWebSearchTheUpstreamReports_AtTenPerThousandUnlessTheEntrySaysOtherwise()
    {
        // Arrange
        var table = Read(new()
        {
            ["plain:Input"] = "3", ["plain:Output"] = "15",
            ["own:Input"] = "3", ["own:Output"] = "15", ["own:WebSearch"] = "12", ["own:WebFetch"] = "1",
        });
        var searches = Record("plain") with { InputTokens = 1_000, WebSearchRequests = 3, WebFetchRequests = 4 };

        // Act
        var plain = table.Price(searches);
        var own = table.Price(searches with { Model = "own", UpstreamModel = "own" });

        // Assert: 1,000 input tokens at 3 per million, plus 3 searches at 10 (or 12) per 1,000, plus 4 fetches at 0 (or 1).
        Assert.Equal(0.003m + 0.03m, plain.Cost);
        Assert.Equal(0.003m + 0.036m + 0.004m, own.Cost);
    }

    [Fact]
    public void Read_TakesToolPricesMultipliersAndALongContextPremium_PerEntry()
    {
        // Act
        var table = Read(new()
        {
            ["m:Input"] = "2", ["m:Output"] = "10",
            ["m:WebSearch"] = "8", ["m:WebFetch"] = "0.5",
            ["m:LongContext:AboveTokens"] = "100000", ["m:LongContext:Input"] = "5", ["m:LongContext:Output"] = "4",
            ["m:Speed:fast"] = "2.5", ["m:InferenceGeo:us"] = "1.2", ["m:ServiceTier:priority"] = "1.5",
        });
        var price = table.Find("m")!;

        // Assert
        Assert.Empty(table.Errors);
        Assert.Equal(8m, price.WebSearch);
        Assert.Equal(0.5m, price.WebFetch);
        Assert.Equal(new LongContextPrice(100_000, 5m, 4m), price.LongContext);
        Assert.Equal(2.5m, price.Multipliers.Factors["speed:fast"]);
        Assert.Equal(1.2m, price.Multipliers.Factors["inference_geo:us"]);
        Assert.Equal(1.5m, price.Multipliers.Factors["service_tier:priority"]);
        Assert.Equal(0.5m, price.Multipliers.Factors["service_tier:batch"]);
    }

    [Theory]
    [InlineData("m:LongContext:AboveTokens", "many", "Gateway:Prices:m:LongContext:AboveTokens must be a whole number")]
    [InlineData("m:Speed:fast", "-2", "Gateway:Prices:m:Speed:fast must be a non-negative number")]
    [InlineData("m:WebSearch", "ten", "Gateway:Prices:m:WebSearch must be a non-negative number")]
    [InlineData("m:Surcharge", "1", "Gateway:Prices:m:Surcharge is not a price")]
    public void Read_ReportsBadPricedOptions_ByName(string setting, string value, string expected)
    {
        // Act
        var table = Read(new() { ["m:Input"] = "1", ["m:Output"] = "2", ["m:LongContext:Input"] = "2", ["m:LongContext:Output"] = "2", [setting] = value });

        // Assert
        Assert.Contains(table.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Read_ChecksServerToolUsesWithoutMax()
    {
        // Act
        var table = Read([], new PricesOptions { ServerToolUsesWithoutMax = -1 });

        // Assert
        Assert.Contains("Gateway:Prices:ServerToolUsesWithoutMax must be from 0 to 10000.", table.Errors);
    }

    [Theory]
    [InlineData("fast", null, null, 2.0)]
    [InlineData("turbo", null, null, 2.0)]
    [InlineData(null, "us", "priority", 1.1 * 1.5)]
    [InlineData(null, "mars", null, 1.1)]
    [InlineData(null, null, "batch", 0.5)]
    [InlineData("standard", "global", "standard", 1.0)]
    public void Price_BillsTheReportedOptions_AndAnUnknownValueAtItsOptionsHighestMultiplier(string? speed, string? geo, string? tier, double factor)
    {
        // Arrange: 1,000,000 output tokens at 1 per million is 1 unit at 1x.
        var table = Read(new() { ["m:Input"] = "1", ["m:Output"] = "1", ["m:Speed:fast"] = "2", ["m:ServiceTier:priority"] = "1.5" });
        var record = Record("m") with { OutputTokens = 1_000_000, Speed = speed, InferenceGeo = geo, ServiceTier = tier };

        // Act
        var cost = table.Price(record).Cost;

        // Assert
        Assert.Equal(decimal.Round((decimal)factor, 6), cost);
    }

    private static UsageRecord Record(string model) => PriceSettings.Record(model, model);

    private static PriceTable Read(Dictionary<string, string?> prices, PricesOptions? options = null) =>
        PriceSettings.Read(prices, options ?? new PricesOptions { Defaults = PricesOptions.NoDefaults });
}
