using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Customer;

/// <summary>
/// The key holder's own endpoint (docs/console.md#the-customer-endpoint) and the operator's daily report over real HTTP,
/// in every hosting mode: a key sees only itself whatever the query says, and the daily rows equal the statement.
/// </summary>
public sealed class CustomerEndpointTests
{
    public static TheoryData<string> Modes => GatewayHosts.Modes;

    private static string Today => DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Month => DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task CustomerEndpoint_AnswersOnlyAboutTheCallingKey_WhateverTheQueryNames(string mode)
    {
        // Arrange: two keys with calls of their own; the first with limits.
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        var (mine, myKey) = await scenario.Environment.CreateKeyAsync("mine <img src=x onerror=alert(1)>", ["model-*"], limits: """{"requestsPerMinute":50}""");
        var (_, other) = await scenario.Environment.CreateKeyAsync("other");
        using var http = scenario.Http();
        await CallAsync(http, mine, "model-a", 2);
        await CallAsync(http, scenario.Secret, "model-b", 1);
        await WaitForCallsAsync(scenario, myKey.Id, 2);

        // Act
        using var key = await GetAsync(http, "v1/gateway/key", mine);
        using var keyBearer = await GetAsync(http, "v1/gateway/key", mine, bearer: true);
        using var daily = await GetAsync(http, $"v1/gateway/key/usage/daily?from={Today}&to={Today}", mine);
        using var statement = await GetAsync(http, $"v1/gateway/key/statement?period={Month}", mine);
        using var csv = await GetAsync(http, $"v1/gateway/key/statement?period={Month}&format=csv", mine);
        var sneaky = new[]
        {
            $"v1/gateway/key?keyId={scenario.Key.Id}", $"v1/gateway/key?id={other.Id}",
            $"v1/gateway/key/usage/daily?keyId={scenario.Key.Id}", $"v1/gateway/key/usage/daily?from={Today}&keyid={other.Id}",
            $"v1/gateway/key/statement?keyId={scenario.Key.Id}", $"v1/gateway/key/statement?period={Month}&id={other.Id}",
        };

        // Assert: the caller's key, its limits and counters; its own rows only; any other key's id in a query is a 400.
        Assert.Equal(HttpStatusCode.OK, key.StatusCode);
        Assert.Equal("no-store", key.Headers.CacheControl?.ToString());
        using (var body = JsonDocument.Parse(await key.Content.ReadAsStringAsync()))
        {
            var root = body.RootElement;
            Assert.Equal(myKey.Id, root.GetProperty("id").GetString());
            Assert.Equal("mine <img src=x onerror=alert(1)>", root.GetProperty("name").GetString());
            Assert.Equal(myKey.Hint, root.GetProperty("hint").GetString());
            Assert.Equal(["model-*"], root.GetProperty("models").EnumerateArray().Select(static m => m.GetString()));
            Assert.Equal(50, root.GetProperty("limits").GetProperty("requestsPerMinute").GetInt32());
            Assert.True(root.GetProperty("current").GetProperty("requests").GetInt64() >= 2);
            Assert.False(root.TryGetProperty("secrets", out _));
            Assert.False(root.TryGetProperty("key", out _));
        }

        Assert.Equal(HttpStatusCode.OK, keyBearer.StatusCode);
        using (var body = JsonDocument.Parse(await daily.Content.ReadAsStringAsync()))
        {
            var rows = body.RootElement.GetProperty("days").EnumerateArray().ToList();
            var row = Assert.Single(rows);
            Assert.Equal(myKey.Id, row.GetProperty("keyId").GetString());
            Assert.Equal("model-a", row.GetProperty("model").GetString());
            Assert.Equal(2, row.GetProperty("calls").GetInt64());
            Assert.Equal(Today, body.RootElement.GetProperty("from").GetString());
        }

        var statementText = await statement.Content.ReadAsStringAsync();
        Assert.Contains(myKey.Id, statementText, StringComparison.Ordinal);
        Assert.DoesNotContain(scenario.Key.Id, statementText, StringComparison.Ordinal);
        Assert.DoesNotContain("model-b", statementText, StringComparison.Ordinal);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("model-b", await csv.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        foreach (var path in sneaky)
        {
            using var refused = await GetAsync(http, path, mine);
            await GatewayAssert.ErrorAsync(refused, 400, "invalid_request_error");
            Assert.DoesNotContain(other.Id, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task CustomerEndpoint_Refuses_DisabledExpiredRotatedOutAdminAndMissingKeys(string mode)
    {
        // Arrange: a disabled key, an expired key, and a key whose first secret was rotated out at once.
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        var (disabled, _) = await scenario.Environment.CreateKeyAsync("disabled", disabled: true);
        var (expired, _) = await scenario.Environment.CreateKeyAsync("expired", expiresAt: DateTimeOffset.UtcNow.AddMilliseconds(1));
        using var http = scenario.Http();
        var admin = new AuthenticationHeaderValue("Bearer", GatewayTestEnvironment.AdminKey);
        using (var rotate = new HttpRequestMessage(HttpMethod.Post, $"manage/keys/{scenario.Key.Id}/rotate"))
        {
            rotate.Headers.Authorization = admin;
            rotate.Content = new StringContent("""{"gracePeriod":"PT0S"}""", System.Text.Encoding.UTF8, "application/json");
            using var rotated = await http.SendAsync(rotate);
            Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        }

        await Task.Delay(50);

        foreach (var path in new[] { "v1/gateway/key", $"v1/gateway/key/usage/daily?from={Today}&to={Today}", "v1/gateway/key/statement" })
        {
            // Act
            using var none = await http.GetAsync(path);
            using var off = await GetAsync(http, path, disabled);
            using var past = await GetAsync(http, path, expired);
            using var rotatedOut = await GetAsync(http, path, scenario.Secret);
            using var adminKey = await GetAsync(http, path, GatewayTestEnvironment.AdminKey, bearer: true);
            using var made = await GetAsync(http, path, "sk-qh-" + new string('A', 43));

            // Assert
            foreach (var refused in new[] { none, off, past, rotatedOut, adminKey, made })
            {
                await GatewayAssert.ErrorAsync(refused, 401, "authentication_error");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task DailyUsage_EqualsTheStatement_AndReadsItsQueryStrictly(string mode)
    {
        // Arrange: calls of two keys on two models.
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        var (second, secondKey) = await scenario.Environment.CreateKeyAsync("second");
        using var http = scenario.Http();
        await CallAsync(http, scenario.Secret, "model-a", 2);
        await CallAsync(http, scenario.Secret, "model-b", 1);
        await CallAsync(http, second, "model-a", 1);
        await WaitForCallsAsync(scenario, scenario.Key.Id, 3);
        await WaitForCallsAsync(scenario, secondKey.Id, 1);
        using var admin = scenario.Http();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayTestEnvironment.AdminKey);

        // Act
        using var all = JsonDocument.Parse(await admin.GetStringAsync($"manage/usage/daily?from={Today}&to={Today}"));
        using var one = JsonDocument.Parse(await admin.GetStringAsync($"manage/usage/daily?from={Today}&to={Today}&keyId={scenario.Key.Id}&model=model-a"));
        using var statement = JsonDocument.Parse(await admin.GetStringAsync($"manage/keys/{scenario.Key.Id}/statement?period={Month}"));
        string[] bad =
        [
            "manage/usage/daily?from=2026-13-01", "manage/usage/daily?from=yesterday", "manage/usage/daily?to=2026-1-5",
            "manage/usage/daily?from=2026-02-01&to=2026-01-01", "manage/usage/daily?from=2025-01-01&to=2026-01-02",
            "manage/usage/daily?keyId=nope", "manage/usage/daily?limit=5", "manage/usage/daily?from=2026-01-01&from=2026-01-02",
            "manage/usage/daily?to=9999-12-31", "manage/usage/daily?model=",
        ];

        // Assert: every key's rows, and the one key's rows equal its statement's lines.
        var rows = all.RootElement.GetProperty("days").EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        Assert.Equal(4, rows.Sum(static r => r.GetProperty("calls").GetInt64()));
        Assert.Contains(rows, r => r.GetProperty("keyId").GetString() == secondKey.Id);
        var mine = rows.Where(r => r.GetProperty("keyId").GetString() == scenario.Key.Id).ToList();
        var lines = statement.RootElement.GetProperty("lines").EnumerateArray().ToList();
        Assert.Equal(lines.Count, mine.Count);
        foreach (var line in lines)
        {
            var row = Assert.Single(mine, r => r.GetProperty("model").GetString() == line.GetProperty("model").GetString());
            Assert.Equal(line.GetProperty("day").GetString(), row.GetProperty("date").GetString());
            Assert.Equal(line.GetProperty("calls").GetInt64(), row.GetProperty("calls").GetInt64());
            Assert.Equal(line.GetProperty("inputTokens").GetInt64(), row.GetProperty("inputTokens").GetInt64());
            Assert.Equal(line.GetProperty("outputTokens").GetInt64(), row.GetProperty("outputTokens").GetInt64());
            Assert.Equal(line.GetProperty("cacheWrite5mTokens").GetInt64(), row.GetProperty("cacheCreation5mInputTokens").GetInt64());
            Assert.Equal(line.GetProperty("cacheWrite1hTokens").GetInt64(), row.GetProperty("cacheCreation1hInputTokens").GetInt64());
            Assert.Equal(line.GetProperty("cacheReadTokens").GetInt64(), row.GetProperty("cacheReadInputTokens").GetInt64());
            Assert.Equal(line.GetProperty("cost").GetDecimal(), row.GetProperty("cost").GetDecimal());
            Assert.Equal(0, row.GetProperty("errors").GetInt64());
        }

        var filtered = Assert.Single(one.RootElement.GetProperty("days").EnumerateArray());
        Assert.Equal(2, filtered.GetProperty("calls").GetInt64());
        Assert.True(one.RootElement.TryGetProperty("currency", out _));
        foreach (var path in bad)
        {
            using var refused = await admin.GetAsync(path);
            await GatewayAssert.ErrorAsync(refused, 400, "invalid_request_error");
        }

        using var noAdmin = await http.GetAsync("manage/usage/daily");
        await GatewayAssert.ErrorAsync(noAdmin, 401, "authentication_error");
        using var clientKey = await GetAsync(http, "manage/usage/daily", scenario.Secret, bearer: true);
        await GatewayAssert.ErrorAsync(clientKey, 401, "authentication_error");
    }

    private static async Task CallAsync(HttpClient http, string secret, string model, int count)
    {
        for (var i = 0; i < count; i++)
        {
            using var response = await http.SendAsync(RawClient.Messages(secret, RawClient.Body(model, text: "one two three")));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    private static async Task WaitForCallsAsync(GatewayScenario scenario, string keyId, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while ((await scenario.Environment.AllUsageAsync(keyId)).Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
    }

    private static Task<HttpResponseMessage> GetAsync(HttpClient http, string path, string secret, bool bearer = false)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (bearer)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        }
        else
        {
            request.Headers.Add("x-api-key", secret);
        }

        return http.SendAsync(request);
    }
}
