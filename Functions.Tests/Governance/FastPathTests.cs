using System.Net;
using Azure.Data.Tables;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>A key without limits stays on the fast path: its calls never touch the limits table.</summary>
public sealed class FastPathTests
{
    [Fact]
    public async Task KeyWithoutLimits_NeverTouchesTheLimitsTable_AndGetsNoRateLimitHeaders()
    {
        // Arrange: prices configured (costing is arithmetic, not storage).
        await using var cluster = await GatewayCluster.StartAsync(1, CostFixtureTests.AllFakeModelsPriced);
        var (secret, key) = await cluster.Environment.CreateKeyAsync();
        using var http = cluster.Http(0);

        // Act
        var headers = new List<string>();
        foreach (var stream in new[] { false, true, false })
        {
            using var response = await http.SendAsync(RawClient.Messages(secret, RawClient.Body(FakeAnthropicUpstream.Models.Text, stream)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await response.Content.ReadAsStringAsync();
            headers.AddRange(response.Headers.Select(static h => h.Key));
        }

        var records = await cluster.WaitForRecordsAsync(key.Id, 3);

        // Assert: the limits table was never even created, yet every record is costed.
        var service = new TableServiceClient(cluster.Environment.Azurite.ConnectionString);
        var tables = new List<string>();
        await foreach (var table in service.QueryAsync(TableServiceClient.CreateQueryFilter($"TableName eq {cluster.Environment.LimitsTable}")))
        {
            tables.Add(table.Name);
        }

        Assert.Empty(tables);
        Assert.DoesNotContain(headers, static h => h.Contains("ratelimit", StringComparison.OrdinalIgnoreCase) || h.StartsWith("x-qhaigc-spend", StringComparison.Ordinal));
        Assert.Equal(3, records.Count);
        Assert.All(records, static r => Assert.NotNull(r.Cost));
    }

    [Fact]
    public async Task UnpricedModels_Refuse_Is403_WhilePricedModelsRun()
    {
        // Arrange
        await using var cluster = await GatewayCluster.StartAsync(1, static settings =>
        {
            CostFixtureTests.AllFakeModelsPriced(settings);
            settings["Gateway:Prices:UnpricedModels"] = "refuse";
        });
        var (secret, key) = await cluster.Environment.CreateKeyAsync();
        using var http = cluster.Http(0);

        // Act
        using var priced = await http.SendAsync(RawClient.Messages(secret, RawClient.Body(FakeAnthropicUpstream.Models.Text)));
        using var unpriced = await http.SendAsync(RawClient.Messages(secret, RawClient.Body("claude-unpriced")));

        // Assert
        Assert.Equal(HttpStatusCode.OK, priced.StatusCode);
        await GatewayAssert.ErrorAsync(unpriced, 403, "permission_error",
            "The model 'claude-unpriced' has no price on this gateway, and unpriced models are refused.");
        var records = await cluster.WaitForRecordsAsync(key.Id, 2);
        Assert.Contains(records, static r => r.Status == 403 && r.Cost is null && r.PriceVersion == "test-prices-2");
    }
}
