using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>
/// Which price a call is admitted at (docs/limits-and-prices.md#spend-caps-and-unpriced-calls): the model each route
/// serves, the dearest route, server tools and the options that change the price; and what a capped key may not run.
/// Input is priced at 0 here, so a reservation is exactly <c>max_tokens</c> × the output price plus the tools.
/// </summary>
public sealed class AdmissionPricesTests : IDisposable
{
    private const string Capped = """{"spendCap": 1}""";
    private readonly InMemoryGovernance _governance = new(new DateTimeOffset(2026, 11, 5, 10, 20, 5, TimeSpan.Zero));

    [Fact]
    public async Task AdmitAsync_RefusesACappedKey_WhenTheServedModelHasNoPrice_WhileAKeyWithoutACapRuns()
    {
        // Arrange: unpriced models are allowed (the default).
        var admission = Service();
        using var messages = Messages("claude-new-release");

        // Act
        var capped = await admission.AdmitAsync(Key(Capped), "req_1", messages, ["claude-new-release"]);
        var uncapped = await admission.AdmitAsync(Key("""{"requestsPerMinute": 5}""", "key_00000000000000bb"), "req_2", messages, ["claude-new-release"]);

        // Assert
        Assert.Equal(403, capped.Refusal?.Status);
        Assert.Equal(ErrorTypes.Permission, capped.Refusal!.Type);
        Assert.Contains("'claude-new-release' has no price", capped.Refusal.Message, StringComparison.Ordinal);
        Assert.Contains("spend cap", capped.Refusal.Message, StringComparison.Ordinal);
        Assert.True(uncapped.Admitted);
    }

    [Fact]
    public async Task AdmitAsync_RefusesACappedKey_WhenAFallbackRouteServesAnUnpricedModel()
    {
        // Arrange
        var admission = Service();
        using var messages = Messages("priced");

        // Act
        var result = await admission.AdmitAsync(Key(Capped), "req_1", messages, ["priced", "unpriced-fallback"]);

        // Assert
        Assert.Equal(403, result.Refusal?.Status);
        Assert.Contains("(served as 'unpriced-fallback')", result.Refusal!.Message, StringComparison.Ordinal);
        Assert.Equal(0, _governance.Ledger.Operations);
    }

    [Fact]
    public async Task AdmitAsync_ReservesAtTheServedModelsPrice_WhenTheClientNameIsAnUnpricedAlias()
    {
        // Arrange: "cheap-alias" has no price of its own; the upstream serves "priced" (15 per million output tokens).
        var admission = Service();
        using var messages = Messages("cheap-alias");

        // Act
        var result = await admission.AdmitAsync(Key(Capped), "req_1", messages, ["priced"]);

        // Assert
        Assert.True(result.Admitted);
        Assert.Equal(100 * 15, result.Reservation!.Reserved.ReservedMicros);
    }

    [Fact]
    public async Task AdmitAsync_ReservesAtTheDearestRoute()
    {
        // Arrange
        var admission = Service();
        using var messages = Messages("priced");

        // Act
        var result = await admission.AdmitAsync(Key(Capped), "req_1", messages, ["priced", "dear"]);

        // Assert
        Assert.Equal(100 * 40, result.Reservation!.Reserved.ReservedMicros);
    }

    [Fact]
    public async Task AdmitAsync_ReservesEveryServerToolUseTheRequestAllows()
    {
        // Arrange: 5 web searches at 10 per 1,000 and 2 web fetches at 20 per 1,000 (the entry's own fetch price).
        var admission = Service();
        using var messages = Messages("priced", tools: """
            [{"type":"web_search_20250305","name":"web_search","max_uses":5},{"type":"web_fetch_20250910","name":"web_fetch","max_uses":2},
             {"name":"get_weather","input_schema":{"type":"object"}}]
            """);

        // Act
        var result = await admission.AdmitAsync(Key(Capped), "req_1", messages, ["priced"]);

        // Assert
        Assert.Equal((100 * 15) + (5 * 10_000) + (2 * 20_000), result.Reservation!.Reserved.ReservedMicros);
    }

    [Theory]
    [InlineData(7L, (100L * 15) + (7 * 10_000))]
    [InlineData(0L, null)]
    public async Task AdmitAsync_ReservesTheSettingsUses_ForAServerToolWithoutMaxUses_OrRefusesWhenItIsZero(long setting, long? reserved)
    {
        // Arrange
        var admission = Service(new PricesOptions { Defaults = PricesOptions.NoDefaults, ServerToolUsesWithoutMax = setting });
        using var messages = Messages("priced", tools: """[{"type":"web_search_20250305","name":"web_search"}]""");

        // Act
        var result = await admission.AdmitAsync(Key(Capped), "req_1", messages, ["priced"]);

        // Assert
        Assert.Equal(reserved, result.Reservation?.Reserved.ReservedMicros);
        Assert.Equal(reserved is null ? 403 : null, result.Refusal?.Status);
        Assert.Equal(reserved is null ? "This call cannot be priced on this gateway (the server tool 'web_search_20250305' sets no max_uses), and this API key has a spend cap." : null,
            result.Refusal?.Message);
    }

    [Theory]
    [InlineData("""
        ,"speed":"fast"
        """, "fast-priced", 100 * 15 * 2)]
    [InlineData("""
        ,"inference_geo":"us"
        """, "priced", 1650)]
    [InlineData("""
        ,"service_tier":"standard_only","inference_geo":"global","speed":"standard"
        """, "priced", 100 * 15)]
    public async Task AdmitAsync_ReservesTheMultiplierOfTheOptionsAsked(string options, string model, long reserved)
    {
        // Arrange
        var admission = Service();
        using var messages = Messages(model, extra: options);

        // Act
        var result = await admission.AdmitAsync(Key(Capped), "req_1", messages, [model]);

        // Assert
        Assert.Equal(reserved, result.Reservation!.Reserved.ReservedMicros);
    }

    [Theory]
    [InlineData("""
        ,"speed":"fast"
        """, "speed 'fast' has no price for this model")]
    [InlineData("""
        ,"inference_geo":"eu"
        """, "inference_geo 'eu' has no price for this model")]
    [InlineData("""
        ,"tools":[{"type":"code_execution_20250825","name":"code_execution"}]
        """, "the server tool 'code_execution_20250825' is billed by the upstream in a way the gateway cannot see per call")]
    public async Task AdmitAsync_RefusesACappedKey_WhatTheGatewayCannotPrice(string options, string problem)
    {
        // Arrange
        var admission = Service();
        using var messages = Messages("priced", extra: options);

        // Act
        var capped = await admission.AdmitAsync(Key(Capped), "req_1", messages, ["priced"]);
        var uncapped = await admission.AdmitAsync(Key("""{"requestsPerMinute": 5}""", "key_00000000000000bb"), "req_2", messages, ["priced"]);

        // Assert
        Assert.Equal(403, capped.Refusal?.Status);
        Assert.Equal($"This call cannot be priced on this gateway ({problem}), and this API key has a spend cap.", capped.Refusal!.Message);
        Assert.True(uncapped.Admitted);
    }

    [Fact]
    public async Task AdmitAsync_PricesAnthropicModelsFromTheDefaultTable_WhenTheOperatorSetsNoPrice()
    {
        // Arrange: no entries; the shipped table prices a dated id (Haiku 4.5 at 5 per million output tokens).
        var admission = Service(new PricesOptions(), entries: []);
        using var messages = Messages("claude-haiku-4-5-20251001");

        // Act
        var result = await admission.AdmitAsync(Key(Capped), "req_1", messages, ["claude-haiku-4-5-20251001"]);

        // Assert
        Assert.True(result.Admitted);
        Assert.True(result.Reservation!.Reserved.ReservedMicros >= 100 * 5);
    }

    public void Dispose() => _governance.Dispose();

    private AdmissionService Service(PricesOptions? options = null, Dictionary<string, string?>? entries = null)
    {
        entries ??= new()
        {
            ["priced:Input"] = "0", ["priced:Output"] = "15", ["priced:WebFetch"] = "20",
            ["dear:Input"] = "0", ["dear:Output"] = "40",
            ["fast-priced:Input"] = "0", ["fast-priced:Output"] = "15", ["fast-priced:Speed:fast"] = "2",
        };
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(entries.Select(static e => new KeyValuePair<string, string?>("Gateway:Prices:" + e.Key, e.Value)))
            .Build();
        var table = PriceTable.Read(configuration.GetSection("Gateway:Prices"), options ?? new PricesOptions { Defaults = PricesOptions.NoDefaults });
        Assert.Empty(table.Errors);
        return _governance.Admission(table);
    }

    private static ApiKey Key(string limits, string id = "key_00000000000000aa") => AdmissionServiceTests.Key(limits, id);

    private static MessagesRequest Messages(string model, string? tools = null, string extra = "")
    {
        var body = Encoding.UTF8.GetBytes(
            $$"""{"model":"{{model}}","max_tokens":100,"messages":[{"role":"user","content":"Hello there"}]{{(tools is null ? "" : ",\"tools\":" + tools)}}{{extra}}}""");
        return new MessagesRequest(body, JsonDocument.Parse(body), model, 100, false);
    }
}
