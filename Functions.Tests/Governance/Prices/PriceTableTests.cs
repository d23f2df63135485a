using Microsoft.Extensions.Configuration;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>Reading <c>Gateway:Prices</c>: entries by name or by <c>Models</c>, specificity, cache defaults, version, errors.</summary>
public sealed class PriceTableTests
{
    [Fact]
    public void Read_PricesEveryKind_AndDefaultsCachePricesToAnthropicsMultipliers()
    {
        // Arrange
        var table = Read(new()
        {
            ["claude-sonnet-*:Input"] = "3",
            ["claude-sonnet-*:Output"] = "15",
            ["claude-opus-4:Input"] = "15",
            ["claude-opus-4:Output"] = "75",
            ["claude-opus-4:CacheWrite5m"] = "20",
            ["claude-opus-4:CacheWrite1h"] = "31",
            ["claude-opus-4:CacheRead"] = "1.6",
        });

        // Act
        var sonnet = table.Find("claude-sonnet-4-6");
        var opus = table.Find("CLAUDE-OPUS-4");

        // Assert
        Assert.Empty(table.Errors);
        Assert.Equal(new ModelPrice(3m, 15m, 3.75m, 6m, 0.3m), sonnet);
        Assert.Equal(new ModelPrice(15m, 75m, 20m, 31m, 1.6m), opus);
        Assert.Null(table.Find("gpt-4o"));
        Assert.Equal("USD", table.Currency);
        Assert.False(table.RefusesUnpriced);
    }

    [Fact]
    public void Find_PrefersTheMostSpecificPattern_WhateverTheOrder()
    {
        // Arrange
        var table = Read(new()
        {
            ["*:Input"] = "1", ["*:Output"] = "1",
            ["claude-*:Input"] = "2", ["claude-*:Output"] = "2",
            ["claude-haiku-4-5:Input"] = "3", ["claude-haiku-4-5:Output"] = "3",
        });

        // Act / Assert
        Assert.Equal(3m, table.Find("claude-haiku-4-5")!.Input);
        Assert.Equal(2m, table.Find("claude-haiku-4")!.Input);
        Assert.Equal(1m, table.Find("llama")!.Input);
    }

    [Fact]
    public void Read_TakesPatternsFromModels_ForSettingNamesThatCannotHoldThem()
    {
        // Arrange: Azure app settings cannot be named with '*' or '-', so the entry is named freely.
        var table = Read(new()
        {
            ["sonnet:Models"] = "claude-sonnet-*, claude-3-7-sonnet*",
            ["sonnet:Input"] = "3",
            ["sonnet:Output"] = "15",
        });

        // Act / Assert
        Assert.Equal(15m, table.Find("claude-3-7-sonnet-latest")!.Output);
        Assert.Equal(15m, table.Find("claude-sonnet-4")!.Output);
        Assert.Null(table.Find("sonnet"));
    }

    [Fact]
    public void Version_IsTheSetting_ElseAHashThatChangesWithAnyPrice()
    {
        // Arrange
        Dictionary<string, string?> prices = new() { ["m:Input"] = "1", ["m:Output"] = "2" };

        // Act
        var named = Read(prices, new PricesOptions { Version = "2026-11" });
        var hashed = Read(prices);
        var again = Read(prices);
        var changed = Read(new() { ["m:Input"] = "1", ["m:Output"] = "2.5" });

        // Assert
        Assert.Equal("2026-11", named.Version);
        Assert.StartsWith("sha256:", hashed.Version, StringComparison.Ordinal);
        Assert.Equal(hashed.Version, again.Version);
        Assert.NotEqual(hashed.Version, changed.Version);
    }

    [Theory]
    [InlineData("m:Input", "three", "Gateway:Prices:m:Input must be a non-negative number")]
    [InlineData("m:Input", "-1", "Gateway:Prices:m:Input must be a non-negative number")]
    [InlineData("m:Input", "1,5", "Gateway:Prices:m:Input must be a non-negative number")]
    [InlineData("m:Output", "", "Gateway:Prices:m:Output is required")]
    [InlineData("m:Cache", "1", "Gateway:Prices:m:Cache is not a price")]
    public void Read_ReportsBadSettings_ByName(string setting, string value, string expected)
    {
        // Arrange
        Dictionary<string, string?> prices = new() { ["m:Input"] = "1", ["m:Output"] = "2", [setting] = value };

        // Act
        var table = Read(prices);

        // Assert
        Assert.Contains(table.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Read_ChecksCurrencyAndUnpricedPolicy()
    {
        // Act
        var bad = Read([], new PricesOptions { Currency = "dollars", UnpricedModels = "maybe" });
        var good = Read([], new PricesOptions { Currency = "eur", UnpricedModels = "Refuse" });

        // Assert
        Assert.Equal(2, bad.Errors.Count);
        Assert.Empty(good.Errors);
        Assert.Equal("EUR", good.Currency);
        Assert.True(good.RefusesUnpriced);
    }

    private static PriceTable Read(Dictionary<string, string?> prices, PricesOptions? options = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(prices.Select(static p => new KeyValuePair<string, string?>("Gateway:Prices:" + p.Key, p.Value)))
            .Build();
        return PriceTable.Read(configuration.GetSection("Gateway:Prices"), options ?? new PricesOptions());
    }
}
