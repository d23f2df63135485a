using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Anthropic.Models.Messages;
using Qhaigc.Functions.Admin;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Admin;

/// <summary>The administration API over real HTTP, in every hosting mode.</summary>
public sealed class AdminEndToEndTests
{
    public static TheoryData<string> Modes => GatewayHosts.Modes;

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Keys_Lifecycle_CreateUseListUpdateDelete(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        using var admin = Admin(scenario);

        // Act: create, and use the secret that comes back once.
        using var created = await admin.PostAsync("manage/keys", Json("""{"name":"team-a","models":["claude-*"],"limits":{"requestsPerMinute":10}}"""));
        using var createdBody = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var secret = createdBody.RootElement.GetProperty("key").GetString()!;
        var id = createdBody.RootElement.GetProperty("id").GetString()!;
        var message = await scenario.Sdk(secret).Messages.Create(new MessageCreateParams
        {
            Model = "claude-sonnet-4-5",
            MaxTokens = 10,
            Messages = [new UserMessageParam { Content = "hello admin" }],
        });

        // Assert: created once, secret format, never stored or listed.
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.StartsWith("sk-qh-", secret, StringComparison.Ordinal);
        Assert.True(secret.Length >= 6 + 43);
        Assert.StartsWith("key_", id, StringComparison.Ordinal);
        Assert.Equal(10, createdBody.RootElement.GetProperty("limits").GetProperty("requestsPerMinute").GetInt32());
        Assert.Equal("hello admin", ((TextBlock)message.Content[0].Value!).Text);

        var list = await admin.GetStringAsync("manage/keys");
        Assert.Contains(id, list, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, list, StringComparison.Ordinal);
        var one = await admin.GetStringAsync("manage/keys/" + id);
        Assert.DoesNotContain(secret, one, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"team-a\"", one, StringComparison.Ordinal);

        // Model restriction holds.
        using var http = scenario.Http();
        using var forbidden = await http.SendAsync(RawClient.Messages(secret, RawClient.Body("gpt-4o")));
        await GatewayAssert.ErrorAsync(forbidden, 403, "permission_error");

        // Disable: this instance forgets its cached key at once.
        using var patched = await admin.PatchAsync("manage/keys/" + id, Json("""{"disabled":true,"expiresAt":null}"""));
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        using var disabled = await http.SendAsync(RawClient.Messages(secret, RawClient.Body("claude-x")));
        await GatewayAssert.ErrorAsync(disabled, 401, "authentication_error");

        // Delete.
        using var deleted = await admin.DeleteAsync("manage/keys/" + id);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await admin.GetAsync("manage/keys/" + id);
        await GatewayAssert.ErrorAsync(gone, 404, "not_found_error");
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Usage_ReportsTotalsPerKeyDayAndModel_AndPagesRecords(string mode)
    {
        // Arrange: three calls on two models.
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        using var http = scenario.Http();
        foreach (var (model, text) in new[] { ("model-a", "one two"), ("model-a", "three"), ("model-b", "four five six") })
        {
            using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(model, text: text)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var admin = Admin(scenario);
        var from = DateTimeOffset.UtcNow.AddHours(-1).ToString("O");
        var to = DateTimeOffset.UtcNow.AddHours(1).ToString("O");
        JsonDocument? report = null;
        for (var attempt = 0; attempt < 100; attempt++)
        {
            report?.Dispose();
            report = JsonDocument.Parse(await admin.GetStringAsync($"manage/usage?keyId={scenario.Key.Id}&from={Uri.EscapeDataString(from)}&to={Uri.EscapeDataString(to)}&limit=2"));
            if (report.RootElement.GetProperty("totals").EnumerateArray().Sum(static t => t.GetProperty("calls").GetInt64()) == 3)
            {
                break;
            }

            await Task.Delay(50);
        }

        // Assert
        using (report)
        {
            var totals = report!.RootElement.GetProperty("totals").EnumerateArray().ToDictionary(static t => t.GetProperty("model").GetString()!);
            Assert.Equal(2, totals["model-a"].GetProperty("calls").GetInt64());
            Assert.Equal(3, totals["model-a"].GetProperty("outputTokens").GetInt64());
            Assert.Equal(1, totals["model-b"].GetProperty("calls").GetInt64());
            Assert.Equal(3, totals["model-b"].GetProperty("outputTokens").GetInt64());
            Assert.Equal(2, report.RootElement.GetProperty("records").GetArrayLength());
            var cursor = report.RootElement.GetProperty("nextCursor").GetString();
            using var page2 = JsonDocument.Parse(await admin.GetStringAsync($"manage/usage?keyId={scenario.Key.Id}&from={Uri.EscapeDataString(from)}&to={Uri.EscapeDataString(to)}&limit=2&cursor={cursor}"));
            Assert.Equal(1, page2.RootElement.GetProperty("records").GetArrayLength());
            Assert.False(page2.RootElement.TryGetProperty("nextCursor", out _));
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Admin_RejectsWrongKey_BadInput_AndIsHiddenWithoutAdminKey(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        using var http = scenario.Http();
        using var admin = Admin(scenario);

        // Act
        using var noAuth = await http.GetAsync("manage/keys");
        using var wrongRequest = new HttpRequestMessage(HttpMethod.Get, "manage/keys");
        wrongRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");
        using var wrong = await http.SendAsync(wrongRequest);
        using var clientKeyRequest = new HttpRequestMessage(HttpMethod.Get, "manage/keys");
        clientKeyRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", scenario.Secret);
        using var clientKey = await http.SendAsync(clientKeyRequest);
        using var noName = await admin.PostAsync("manage/keys", Json("""{"models":[]}"""));
        using var badJson = await admin.PostAsync("manage/keys", Json("{"));
        using var wrongType = await admin.PostAsync("manage/keys", Json("""{"name":5}"""));
        using var pastExpiry = await admin.PostAsync("manage/keys", Json("""{"name":"x","expiresAt":"2001-01-01T00:00:00Z"}"""));
        using var unknownField = await admin.PatchAsync("manage/keys/" + scenario.Key.Id, Json("""{"secret":"x"}"""));
        using var badId = await admin.GetAsync("manage/keys/not-an-id");
        using var badRange = await admin.GetAsync("manage/usage?from=yesterday");

        // Assert
        await GatewayAssert.ErrorAsync(noAuth, 401, "authentication_error");
        await GatewayAssert.ErrorAsync(wrong, 401, "authentication_error");
        await GatewayAssert.ErrorAsync(clientKey, 401, "authentication_error");
        await GatewayAssert.ErrorAsync(noName, 400, "invalid_request_error", "name: Field required");
        await GatewayAssert.ErrorAsync(badJson, 400, "invalid_request_error");
        await GatewayAssert.ErrorAsync(wrongType, 400, "invalid_request_error");
        await GatewayAssert.ErrorAsync(pastExpiry, 400, "invalid_request_error");
        await GatewayAssert.ErrorAsync(unknownField, 400, "invalid_request_error");
        await GatewayAssert.ErrorAsync(badId, 404, "not_found_error");
        await GatewayAssert.ErrorAsync(badRange, 400, "invalid_request_error");

        // Without Gateway:AdminKey the API does not exist.
        await using var hidden = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false, configure: static s => s["Gateway:AdminKey"] = null);
        using var hiddenAdmin = Admin(hidden);
        using var notFound = await hiddenAdmin.GetAsync("manage/keys");
        await GatewayAssert.ErrorAsync(notFound, 404, "not_found_error");

        // Nor when the setting holds a Key Vault reference the platform could not resolve: its text is no key.
        const string unresolved = "@Microsoft.KeyVault(VaultName=kv;SecretName=gateway-admin-key)";
        await using var unresolvedHost = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false, configure: static s => s["Gateway:AdminKey"] = unresolved);
        using var literal = unresolvedHost.Http();
        literal.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", unresolved);
        using var refused = await literal.GetAsync("manage/keys");
        await GatewayAssert.ErrorAsync(refused, 404, "not_found_error");
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Admin_Answers405WithAllow_ForAnUnservedMethod_AndNoStoreOnEveryAnswer(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        using var admin = Admin(scenario);
        using var created = await admin.PostAsync("manage/keys", Json("""{"name":"kept"}"""));
        using var createdBody = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var id = createdBody.RootElement.GetProperty("id").GetString()!;

        // Act: methods the routes do not serve (the standalone mode used to answer them 404, from its fallback).
        using var put = await admin.PutAsync("manage/keys/" + id, Json("""{"name":"x"}"""));
        using var deleteAll = await admin.DeleteAsync("manage/keys");
        using var getRotate = await admin.GetAsync($"manage/keys/{id}/rotate");
        using var postUsage = await admin.PostAsync("manage/usage", Json("{}"));
        using var rotated = await admin.PostAsync($"manage/keys/{id}/rotate", Json("{}"));
        using var still = await admin.GetAsync("manage/keys/" + id);

        // Assert
        await GatewayAssert.ErrorAsync(put, 405, "invalid_request_error");
        Assert.Equal("GET, PATCH, DELETE", string.Join(", ", put.Content.Headers.Allow));
        await GatewayAssert.ErrorAsync(deleteAll, 405, "invalid_request_error");
        Assert.Equal("GET, POST", string.Join(", ", deleteAll.Content.Headers.Allow));
        await GatewayAssert.ErrorAsync(getRotate, 405, "invalid_request_error");
        await GatewayAssert.ErrorAsync(postUsage, 405, "invalid_request_error");
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
        foreach (var response in new[] { created, rotated, still, put })
        {
            Assert.True(response.Headers.CacheControl?.NoStore, $"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri} lacks no-store");
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Admin_SlowsAClient_AfterTooManyFailedAttempts(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        using var guesser = scenario.Http();
        guesser.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "guess");
        using var admin = Admin(scenario);

        // Act: every failure is a 401 until the client has used its allowance; then even the right key waits.
        for (var attempt = 0; attempt < AdminFailureThrottle.MaxFailures; attempt++)
        {
            using var failed = await guesser.GetAsync("manage/keys");
            await GatewayAssert.ErrorAsync(failed, 401, "authentication_error");
        }

        using var slowed = await guesser.GetAsync("manage/keys");
        using var rightKey = await admin.GetAsync("manage/keys");

        // Assert
        await GatewayAssert.ErrorAsync(slowed, 429, "rate_limit_error");
        Assert.True(int.Parse(RawClient.Header(slowed, "retry-after")!, CultureInfo.InvariantCulture) > 0);
        await GatewayAssert.ErrorAsync(rightKey, 429, "rate_limit_error");
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task CreateKey_ReadsTheStrictSchema_DisabledHonouredUnknownAndSmuggledPatternsRefused(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        using var admin = Admin(scenario);
        using var http = scenario.Http();

        // Act
        using var disabled = await admin.PostAsync("manage/keys", Json("""{"name":"off","disabled":true}"""));
        using var disabledBody = JsonDocument.Parse(await disabled.Content.ReadAsStringAsync());
        using var call = await http.SendAsync(RawClient.Messages(disabledBody.RootElement.GetProperty("key").GetString()!, RawClient.Body("claude-x")));
        using var unknown = await admin.PostAsync("manage/keys", Json("""{"name":"k","disable":true}"""));
        using var comma = await admin.PostAsync("manage/keys", Json("""{"name":"k","models":["claude-haiku*,*"]}"""));
        using var longName = await admin.PatchAsync("manage/keys/" + scenario.Key.Id, Json($$"""{"name":"{{new string('n', 5000)}}"}"""));
        using var commaPatch = await admin.PatchAsync("manage/keys/" + scenario.Key.Id, Json("""{"models":["claude-haiku*,*"]}"""));

        // Assert
        Assert.Equal(HttpStatusCode.Created, disabled.StatusCode);
        Assert.True(disabledBody.RootElement.GetProperty("disabled").GetBoolean());
        await GatewayAssert.ErrorAsync(call, 401, "authentication_error");
        await GatewayAssert.ErrorAsync(unknown, 400, "invalid_request_error", "disable: unknown field (known: name, disabled, models, expiresAt, limits)");
        await GatewayAssert.ErrorAsync(comma, 400, "invalid_request_error");
        await GatewayAssert.ErrorAsync(longName, 400, "invalid_request_error", "name: String should have at most 200 characters");
        await GatewayAssert.ErrorAsync(commaPatch, 400, "invalid_request_error");
        var stored = await scenario.Environment.Keys.GetAsync(scenario.Key.Id, CancellationToken.None);
        Assert.Equal(scenario.Key.Name, stored!.Name);
        Assert.Equal(scenario.Key.Models, stored.Models);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Usage_TotalsOverEveryKey_IncludeADeletedKey(string mode)
    {
        // Arrange: a key that made a call and was then deleted.
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        using var http = scenario.Http();
        using var admin = Admin(scenario);
        var (secret, deleted) = await scenario.Environment.CreateKeyAsync(name: "gone");
        using (var call = await http.SendAsync(RawClient.Messages(secret, RawClient.Body("model-a", text: "one two"))))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
            await scenario.Environment.WaitForUsageAsync(deleted.Id, RawClient.Header(call, "request-id")!);
        }

        using (var removed = await admin.DeleteAsync("manage/keys/" + deleted.Id))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        // Act
        using var report = JsonDocument.Parse(await admin.GetStringAsync("manage/usage"));
        var statement = await admin.GetStringAsync($"manage/keys/{deleted.Id}/statement");

        // Assert: the totals and the records keep what the deleted key used, as its statement does.
        var total = Assert.Single(report.RootElement.GetProperty("totals").EnumerateArray(), t => t.GetProperty("keyId").GetString() == deleted.Id);
        Assert.Equal(1, total.GetProperty("calls").GetInt64());
        Assert.Contains(report.RootElement.GetProperty("records").EnumerateArray(), r => r.GetProperty("keyId").GetString() == deleted.Id);
        Assert.Contains("\"calls\":1", statement, StringComparison.Ordinal);
    }

    private static HttpClient Admin(GatewayScenario scenario)
    {
        var client = scenario.Http();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayTestEnvironment.AdminKey);
        return client;
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");
}
