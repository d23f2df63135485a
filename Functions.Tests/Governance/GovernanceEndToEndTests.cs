using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>Limits, rotation and statements in every hosting mode, over the routes each mode serves.</summary>
public sealed class GovernanceEndToEndTests
{
    public static TheoryData<string> Modes => GatewayHosts.Modes;

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task LimitsRotationAndStatement_WorkInEveryHostingMode(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, configure: static settings =>
        {
            settings["Gateway:Prices:fakes:Models"] = "fake-*";
            settings["Gateway:Prices:fakes:Input"] = "3";
            settings["Gateway:Prices:fakes:Output"] = "15";
        });
        using var admin = scenario.Http();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayTestEnvironment.AdminKey);
        using var created = await admin.PostAsync("manage/keys", Json("""{"name":"governed","limits":{"requestsPerMinute":3,"spendCap":10}}"""));
        using var createdBody = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var id = createdBody.RootElement.GetProperty("id").GetString()!;
        var oldSecret = createdBody.RootElement.GetProperty("key").GetString()!;
        using var http = scenario.Http();
        var body = RawClient.Body("fake-text", maxTokens: 15);
        await RateWindow.AwayFromTheMinutesEndAsync();

        // Act
        using var first = await http.SendAsync(RawClient.Messages(oldSecret, body));
        using var second = await http.SendAsync(RawClient.Messages(oldSecret, body));
        using var rotated = await admin.PostAsync($"manage/keys/{id}/rotate", Json("""{"gracePeriod":"PT10M"}"""));
        using var rotatedBody = JsonDocument.Parse(await rotated.Content.ReadAsStringAsync());
        var newSecret = rotatedBody.RootElement.GetProperty("key").GetString()!;
        using var third = await http.SendAsync(RawClient.Messages(newSecret, body));
        using var fourth = await http.SendAsync(RawClient.Messages(oldSecret, body));
        await WaitForRecordsAsync(scenario, id, 4);
        using var statement = JsonDocument.Parse(await admin.GetStringAsync($"manage/keys/{id}/statement"));
        var csv = await admin.GetStringAsync($"manage/keys/{id}/statement?format=csv");

        // Assert
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("2", RawClient.Header(first, "anthropic-ratelimit-requests-remaining"));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        await GatewayAssert.ErrorAsync(fourth, 429, "rate_limit_error");
        Assert.NotNull(RawClient.Header(fourth, "retry-after"));
        var totals = statement.RootElement.GetProperty("totals");
        Assert.Equal(4, totals.GetProperty("calls").GetInt64());
        Assert.Equal(3 * ((25 * 3) + (15 * 15) + (60 * 3.75m) + (40 * 6) + (2000 * 0.3m)) / 1_000_000m, totals.GetProperty("cost").GetProperty("USD").GetDecimal());
        Assert.StartsWith("key_id,day,model,", csv, StringComparison.Ordinal);
    }

    private static async Task WaitForRecordsAsync(GatewayScenario scenario, string keyId, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await scenario.Environment.AllUsageAsync(keyId)).Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
