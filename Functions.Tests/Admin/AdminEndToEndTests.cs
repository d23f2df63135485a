using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Anthropic.Models.Messages;
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

    private static HttpClient Admin(GatewayScenario scenario)
    {
        var client = scenario.Http();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayTestEnvironment.AdminKey);
        return client;
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");
}
