using System.Net;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>
/// Capped keys against Azurite and a fake upstream that reports the usage each test asks for: no unpriced call, prices
/// of the served model, server tools reserved, billed and counted (docs/limits-and-prices.md#spend-caps-and-unpriced-calls).
/// </summary>
public sealed class PricedCallsEndToEndTests
{
    [Fact]
    public async Task CapOnlyKey_CallingAnUnpricedModel_GetsA403AndARecord_NeverAnEmpty500()
    {
        // Arrange: the key's only limit is a spend cap; the model has no price (unpriced models allowed, the default).
        await using var cluster = await GatewayCluster.StartAsync(1, CostFixtureTests.AllFakeModelsPriced);
        var (secret, key) = await cluster.Environment.CreateKeyAsync(limits: """{"spendCap": 5}""");
        using var http = cluster.Http(0);

        // Act
        using var response = await http.SendAsync(RawClient.Messages(secret, RawClient.Body("claude-unpriced")));

        // Assert
        await GatewayAssert.ErrorAsync(response, 403, "permission_error",
            "The model 'claude-unpriced' has no price on this gateway, and this API key has a spend cap: it can only call models with a price. " +
            "Ask the gateway operator to price the model.");
        var record = Assert.Single(await cluster.WaitForRecordsAsync(key.Id, 1));
        Assert.Equal(403, record.Status);
        Assert.Empty(cluster.Upstream.Received);
    }

    [Fact]
    public async Task CappedKey_CallingAModelMapAlias_IsBilledAndCappedAtTheServedModelsPrice()
    {
        // Arrange: "cheap-alias" is mapped to Opus 4.5, priced by the shipped default table only.
        await using var cluster = await GatewayCluster.StartAsync(1, static settings =>
            settings["Gateway:Upstreams:anthropic:ModelMap:cheap-alias"] = "claude-opus-4-5");
        var (secret, key) = await cluster.Environment.CreateKeyAsync(limits: """{"spendCap": 1}""");
        using var http = cluster.Http(0);

        // Act: the fake answers with text.json's usage: 25 input, 15 output, cache writes 60 (5 minutes) + 40 (1 hour), 2,000 read.
        using (var response = await http.SendAsync(RawClient.Messages(secret, RawClient.Body("cheap-alias", maxTokens: 15))))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await cluster.WaitForIdleAsync();
        var record = Assert.Single(await cluster.WaitForRecordsAsync(key.Id, 1));

        // Assert: Opus 4.5 at 5 / 25, writes 6.25 / 10, reads 0.50 per million.
        const long expected = (25 * 5) + (15 * 25) + (60 * 6_250 / 1000) + (40 * 10) + (2000 * 500 / 1000);
        Assert.Equal("claude-opus-4-5", record.UpstreamModel);
        Assert.Equal(Money.FromMicros(expected), record.Cost);
        Assert.Equal(AnthropicListPrices.Version, record.PriceVersion);
        var spend = await cluster.SpendAsync(key.Id, SpendPeriods.Key(SpendPeriod.Month, DateTimeOffset.UtcNow));
        Assert.Equal(expected, spend!.SpentMicros);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CappedKey_WebSearches_AreReservedFromMaxUses_BilledAndCountedAgainstTheCap(bool stream)
    {
        // Arrange: 1 per million tokens, searches at 10 per 1,000 (1 cent each). A call reserves 3 searches (3 cents),
        // 10 output tokens and, for its input, a 200,000-token context window per sampling (the first and one per
        // allowed search: 80 cents): 83.001 cents. A cap of 85 cents fits one call, not a second after it spent 3.011.
        await using var cluster = await GatewayCluster.StartAsync(1, static settings =>
        {
            settings["Gateway:Prices:search:Models"] = "fake-search";
            settings["Gateway:Prices:search:Input"] = "1";
            settings["Gateway:Prices:search:Output"] = "1";
        });
        var (secret, key) = await cluster.Environment.CreateKeyAsync(limits: """{"spendCap": 0.85}""");
        using var http = cluster.Http(0);
        var body = $$$"""
            {"model":"fake-search","max_tokens":10,"stream":{{{(stream ? "true" : "false")}}},"messages":[{"role":"user","content":"Search"}],
             "tools":[{"type":"web_search_20250305","name":"web_search","max_uses":3}],
             "{{{FakeAnthropicUpstream.ReportedUsage}}}":{"input_tokens":100,"output_tokens":10,"server_tool_use":{"web_search_requests":3,"web_fetch_requests":0},"service_tier":"standard","inference_geo":"global"}
            }
            """;

        // Act: the first call reserves 3 searches and uses them; the second would pass the cap with 3 more.
        using (var first = await http.SendAsync(RawClient.Messages(secret, body)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            await first.Content.ReadAsStringAsync();
        }

        await cluster.WaitForIdleAsync();
        using var second = await http.SendAsync(RawClient.Messages(secret, body));

        // Assert
        Assert.Equal(HttpStatusCode.PaymentRequired, second.StatusCode);
        var records = await cluster.WaitForRecordsAsync(key.Id, 2);
        var billed = Assert.Single(records, static r => r.Status == 200);
        Assert.Equal(3, billed.WebSearchRequests);
        Assert.Equal(0, billed.WebFetchRequests);
        Assert.Equal(("standard", "global"), (billed.ServiceTier, billed.InferenceGeo));
        Assert.Equal(0.03011m, billed.Cost);
        var spend = await cluster.SpendAsync(key.Id, SpendPeriods.Key(SpendPeriod.Month, DateTimeOffset.UtcNow));
        Assert.Equal(30_110, spend!.SpentMicros);
        Assert.Equal(0, spend.ReservedMicros);
    }

    [Fact]
    public async Task Statement_CountsWebSearches_AndTheirCost()
    {
        // Arrange
        await using var cluster = await GatewayCluster.StartAsync(1, static settings =>
        {
            settings["Gateway:Prices:search:Models"] = "fake-search";
            settings["Gateway:Prices:search:Input"] = "0";
            settings["Gateway:Prices:search:Output"] = "0";
            settings["Gateway:Prices:search:WebSearch"] = "25";
        });
        var (secret, key) = await cluster.Environment.CreateKeyAsync();
        using var http = cluster.Http(0);
        var body = $$$"""
            {"model":"fake-search","max_tokens":10,"messages":[{"role":"user","content":"Search"}],
             "{{{FakeAnthropicUpstream.ReportedUsage}}}":{"input_tokens":1,"output_tokens":1,"server_tool_use":{"web_search_requests":2}}
            }
            """;
        for (var i = 0; i < 2; i++)
        {
            using var response = await http.SendAsync(RawClient.Messages(secret, body));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var records = await cluster.WaitForRecordsAsync(key.Id, 2);

        // Act
        var builder = new StatementBuilder(key.Id, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        foreach (var record in records)
        {
            builder.Add(record);
        }

        var statement = builder.Build();

        // Assert: 4 searches at 25 per 1,000.
        Assert.Equal(4, statement.Totals.WebSearchRequests);
        Assert.Equal(0.1m, statement.Totals.Cost["USD"]);
        Assert.Equal(4, Assert.Single(statement.Lines).WebSearchRequests);
        Assert.EndsWith(",4,0\r\n", StatementCsv.Write(statement), StringComparison.Ordinal);
    }
}
