using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>Limits through the admin API: checked when set, enforced at once, visible as they stand.</summary>
public sealed class AdminLimitsTests
{
    [Theory]
    [InlineData("""{"name":"k","limits":{"requestsPerMinute":0}}""", "limits.requestsPerMinute: Input should be an integer from 1 to 1000000000000")]
    [InlineData("""{"name":"k","limits":{"spendCap":"10"}}""", "limits.spendCap: Input should be a number from 0 to 1000000000000 with at most 6 decimals (the operator's currency)")]
    [InlineData("""{"name":"k","limits":{"burst":3}}""", "limits.burst: unknown limit (known: requestsPerMinute, tokensPerMinute, inputTokensPerMinute, outputTokensPerMinute, concurrentStreams, spendCap, spendPeriod, countTokensPerMinute, maxFiles, maxFileBytes)")]
    [InlineData("""{"name":"k","limits":{"maxFiles":0}}""", "limits.maxFiles: Input should be an integer from 1 to 1000000000000")]
    [InlineData("""{"name":"k","limits":{"maxFileBytes":-5}}""", "limits.maxFileBytes: Input should be an integer from 1 to 1000000000000")]
    [InlineData("""{"name":"k","limits":{"maxFileBytes":"1GB"}}""", "limits.maxFileBytes: Input should be an integer from 1 to 1000000000000")]
    [InlineData("""{"name":"k","limits":"none"}""", "limits: Input should be a valid dictionary")]
    public async Task CreateKey_BadLimits_Is400NamingTheField(string body, string message)
    {
        // Arrange
        await using var cluster = await GatewayCluster.StartAsync(1);
        using var admin = Admin(cluster);

        // Act
        using var response = await admin.PostAsync("manage/keys", Json(body));

        // Assert
        await GatewayAssert.ErrorAsync(response, 400, "invalid_request_error", message);
    }

    [Fact]
    public async Task PatchLimits_AppliesAtOnce_AndGetShowsTheCountersAndSpendHeaders()
    {
        // Arrange
        await using var cluster = await SpendCapConcurrencyTests.StartAsync(1);
        using var admin = Admin(cluster);
        using var created = await admin.PostAsync("manage/keys", Json("""{"name":"metered"}"""));
        using var createdBody = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var id = createdBody.RootElement.GetProperty("id").GetString()!;
        var secret = createdBody.RootElement.GetProperty("key").GetString()!;
        using var http = cluster.Http(0);
        var body = Prompts.Body(FakeAnthropicUpstream.Models.Text, Prompts.TextEstimatedAt(25), maxTokens: 15, stream: true);
        using (var unlimited = await http.SendAsync(RawClient.Messages(secret, body)))
        {
            Assert.Null(RawClient.Header(unlimited, "anthropic-ratelimit-requests-limit"));
        }

        await cluster.WaitForRecordsAsync(id, 1);

        // Act
        using var bad = await admin.PatchAsync("manage/keys/" + id, Json("""{"limits":{"spendPeriod":"year"}}"""));
        using var patched = await admin.PatchAsync("manage/keys/" + id, Json("""{"limits":{"requestsPerMinute":2,"spendCap":1}}"""));
        using var first = await http.SendAsync(RawClient.Messages(secret, body));
        await first.Content.ReadAsStringAsync();
        await cluster.WaitForIdleAsync();
        using var view = JsonDocument.Parse(await admin.GetStringAsync("manage/keys/" + id));
        using var second = await http.SendAsync(RawClient.Messages(secret, body));
        using var third = await http.SendAsync(RawClient.Messages(secret, body));

        // Assert
        await GatewayAssert.ErrorAsync(bad, 400, "invalid_request_error", "limits.spendPeriod: Input should be 'month' or 'lifetime'");
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal("2", RawClient.Header(first, "anthropic-ratelimit-requests-limit"));
        Assert.Equal("1", RawClient.Header(first, "anthropic-ratelimit-requests-remaining"));
        Assert.Equal("1", RawClient.Header(first, RateLimitHeaders.SpendLimit));
        // The counter starts from what the month's records already hold (the unlimited call), plus this call's reservation.
        Assert.Equal(Amount(1_000_000 - (2 * SpendCapConcurrencyTests.CallCostMicros)), RawClient.Header(first, RateLimitHeaders.SpendRemaining));
        Assert.NotNull(RawClient.Header(first, RateLimitHeaders.SpendReset));
        var current = view.RootElement.GetProperty("current");
        Assert.Equal(2 * SpendCapConcurrencyTests.CallCostMicros / 1_000_000m, current.GetProperty("spent").GetDecimal());
        Assert.Equal(0m, current.GetProperty("reserved").GetDecimal());
        Assert.Equal("USD", current.GetProperty("currency").GetString());
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        await GatewayAssert.ErrorAsync(third, 429, "rate_limit_error");
        Assert.Equal("0", RawClient.Header(third, "anthropic-ratelimit-requests-remaining"));
    }

    [Fact]
    public async Task PatchLimits_CapRemovedThenSetAgain_CountsTheCallsMadeWithoutIt()
    {
        // Arrange: a cap of five calls; two calls with it, two without it.
        await using var cluster = await SpendCapConcurrencyTests.StartAsync(1);
        var fiveCalls = SpendCapConcurrencyTests.SpendCap(5 * SpendCapConcurrencyTests.CallCostMicros);
        var (secret, key) = await cluster.Environment.CreateKeyAsync(limits: fiveCalls);
        using var admin = Admin(cluster);
        using var http = cluster.Http(0);
        var body = Prompts.Body(FakeAnthropicUpstream.Models.Text, Prompts.TextEstimatedAt(25), maxTokens: 15, stream: true);
        async Task<HttpStatusCode> CallAsync()
        {
            using var response = await http.SendAsync(RawClient.Messages(secret, body));
            await response.Content.ReadAsStringAsync();
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await CallAsync());
        Assert.Equal(HttpStatusCode.OK, await CallAsync());
        using (var removed = await admin.PatchAsync("manage/keys/" + key.Id, Json("""{"limits":null}""")))
        {
            Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, await CallAsync());
        Assert.Equal(HttpStatusCode.OK, await CallAsync());
        await cluster.WaitForRecordsAsync(key.Id, 4);

        // Act: the cap comes back; its counter restarts from the month's records (4 calls), not from its own 2.
        using (var again = await admin.PatchAsync("manage/keys/" + key.Id, Json($$"""{"limits":{{fiveCalls}}}""")))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        var fifth = await CallAsync();
        var sixth = await CallAsync();

        // Assert
        Assert.Equal(HttpStatusCode.OK, fifth);
        Assert.Equal(HttpStatusCode.PaymentRequired, sixth);
    }

    private static HttpClient Admin(GatewayCluster cluster)
    {
        var http = cluster.Http(0);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayTestEnvironment.AdminKey);
        return http;
    }

    private static string Amount(long micros) => RateLimitHeaders.Amount(micros);

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
