using System.Globalization;
using Microsoft.Extensions.Configuration;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Tests.Infra;

/// <summary>
/// The <c>prices</c> parameter becomes <c>Gateway:Prices</c> entries, one per model name or glob, which the gateway's own
/// price table reads back as given (docs/deploy.md, "Prices").
/// </summary>
[Collection(InfraCollectionDefinition.Name)]
public sealed class MainTemplatePricesTests(InfraDeployment infra)
{
    private const string Prefix = "Gateway__Prices__";

    [Fact]
    public void MainTemplate_SetsNoPrice_WhenNoneIsGiven()
    {
        // Assert: the default is an empty table; the gateway's own defaults apply.
        Assert.Empty(infra.Template.GetProperty("parameters").GetProperty("prices").GetProperty("defaultValue").EnumerateObject());
        Assert.DoesNotContain(infra.Example.AppSettings.Keys, static k => k.StartsWith(Prefix, StringComparison.Ordinal));
    }

    [Fact]
    public void MainTemplate_TakesTheDefaultPriceTableSetting_AndLeavesItToTheGatewayWhenEmpty()
    {
        // Arrange
        var parameter = infra.Template.GetProperty("parameters").GetProperty("pricesDefaults");

        // Assert: the shipped table's version or none; empty writes no setting, so the gateway's default (on) applies.
        Assert.Equal("", parameter.GetProperty("defaultValue").GetString());
        Assert.Equal(["", AnthropicListPrices.Version, PricesOptions.NoDefaults],
            parameter.GetProperty("allowedValues").EnumerateArray().Select(static v => v.GetString()!).ToArray());
        Assert.DoesNotContain(Prefix + nameof(PricesOptions.Defaults), infra.Example.AppSettings.Keys);
    }

    [Fact]
    public void MainTemplate_WritesEachPriceAsOneEntry_Exactly()
    {
        // Arrange: the scenario's settings under Gateway:Prices, entries grouped by their (generated) name.
        var settings = infra.Scenario.AppSettings.Where(static s => s.Key.StartsWith(Prefix, StringComparison.Ordinal))
            .ToDictionary(static s => s.Key[Prefix.Length..], static s => s.Value, StringComparer.Ordinal);
        var entries = settings.Keys.Where(static k => k.Contains("__", StringComparison.Ordinal))
            .GroupBy(static k => k[..k.IndexOf("__", StringComparison.Ordinal)], StringComparer.Ordinal)
            .ToDictionary(
                static g => g.Key,
                g => g.ToDictionary(k => k[(g.Key.Length + 2)..], k => settings[k], StringComparer.Ordinal),
                StringComparer.Ordinal);

        // Assert: the two scalar settings, and per pattern exactly the prices given (absent cache prices stay absent,
        // so the gateway's multiples of the input price apply); entry names are setting-safe.
        Assert.Equal("EUR", settings[nameof(PricesOptions.Currency)]);
        Assert.Equal("2026-12-01", settings[nameof(PricesOptions.Version)]);
        Assert.Equal(2 + entries.Values.Sum(static e => e.Count), settings.Count);
        Assert.All(entries.Keys, static name => Assert.True(name.All(char.IsAsciiLetterOrDigit), name));
        Assert.Equivalent(
            new Dictionary<string, Dictionary<string, string>>
            {
                ["claude-sonnet-4-5"] = new() { ["Models"] = "claude-sonnet-4-5", ["Input"] = "3", ["Output"] = "15", ["CacheRead"] = "0.30", ["WebSearch"] = "9" },
                ["claude-haiku-*,claude-3-5-haiku-*"] = new()
                {
                    ["Models"] = "claude-haiku-*,claude-3-5-haiku-*",
                    ["Input"] = "1",
                    ["Output"] = "5",
                    ["CacheWrite5m"] = "1.25",
                    ["CacheWrite1h"] = "2",
                    ["CacheRead"] = "0.10",
                },
            },
            entries.Values.ToDictionary(static e => e["Models"], static e => e, StringComparer.Ordinal),
            strict: true);
    }

    [Theory]
    [InlineData("claude-sonnet-4-5", "3", "15", "3.75", "6", "0.30")]
    [InlineData("claude-haiku-4-5", "1", "5", "1.25", "2", "0.10")]
    [InlineData("claude-3-5-haiku-20241022", "1", "5", "1.25", "2", "0.10")]
    public void MainTemplate_PricesModelsAsTheGatewayReadsThem(
        string model, string input, string output, string cacheWrite5m, string cacheWrite1h, string cacheRead)
    {
        // Arrange: the price settings as the app sees them (the host turns "__" into ":").
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(infra.Scenario.AppSettings
                .Where(static s => s.Key.StartsWith(Prefix, StringComparison.Ordinal))
                .Select(static s => KeyValuePair.Create(s.Key.Replace("__", ":", StringComparison.Ordinal), (string?)s.Value)))
            .Build();
        var section = configuration.GetSection($"{GatewayOptions.SectionName}:{nameof(GatewayOptions.Prices)}");

        // Act: read as the gateway reads Gateway:Prices at start-up.
        var table = PriceTable.Read(section, section.Get<PricesOptions>() ?? new PricesOptions());
        var price = table.Find(model);

        // Assert
        Assert.Empty(table.Errors);
        Assert.Equal("EUR", table.Currency);
        Assert.Equal("2026-12-01", table.Version);
        Assert.Equal(
            new ModelPrice(Parse(input), Parse(output), Parse(cacheWrite5m), Parse(cacheWrite1h), Parse(cacheRead))
            {
                WebSearch = model == "claude-sonnet-4-5" ? 9m : ModelPrice.WebSearchDefault,
            },
            price);
    }

    private static decimal Parse(string value) => decimal.Parse(value, CultureInfo.InvariantCulture);
}
