using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>Rotation: a new secret for the same key id; the old one works for the grace period the operator chose.</summary>
public sealed class KeyRotationTests
{
    [Fact]
    public async Task Rotate_BothSecretsWorkDuringTheGracePeriod_OnlyTheNewOneAfterIt_OnEveryInstance()
    {
        // Arrange: two instances on one clock; the second has the old secret cached from before the rotation.
        var time = GatewayCluster.ClockAtSecond(0);
        await using var cluster = await GatewayCluster.StartAsync(2, time: time);
        using var admin = Admin(cluster.Http(0));
        var (id, oldSecret) = await CreateKeyAsync(admin);
        Assert.Equal(HttpStatusCode.OK, await CallAsync(cluster, 1, oldSecret));

        // Act
        using var rotated = await admin.PostAsync($"manage/keys/{id}/rotate", Json("""{"gracePeriod":"PT1H"}"""));
        using var rotatedBody = JsonDocument.Parse(await rotated.Content.ReadAsStringAsync());
        var newSecret = rotatedBody.RootElement.GetProperty("key").GetString()!;
        var during = new[]
        {
            await CallAsync(cluster, 0, oldSecret), await CallAsync(cluster, 0, newSecret),
            await CallAsync(cluster, 1, oldSecret), await CallAsync(cluster, 1, newSecret),
        };
        time.Advance(TimeSpan.FromMinutes(59));
        var lastMinute = await CallAsync(cluster, 1, oldSecret);
        time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        var after = new[] { await CallAsync(cluster, 0, oldSecret), await CallAsync(cluster, 1, oldSecret) };
        var newAfter = new[] { await CallAsync(cluster, 0, newSecret), await CallAsync(cluster, 1, newSecret) };

        // Assert
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        Assert.Equal(id, rotatedBody.RootElement.GetProperty("id").GetString());
        Assert.NotEqual(oldSecret, newSecret);
        Assert.StartsWith("sk-qh-", newSecret, StringComparison.Ordinal);
        var secrets = rotatedBody.RootElement.GetProperty("secrets").EnumerateArray().ToArray();
        Assert.Equal(2, secrets.Length);
        Assert.Equal(time.GetUtcNow().AddSeconds(-1), secrets[0].GetProperty("expiresAt").GetDateTimeOffset());
        Assert.False(secrets[1].TryGetProperty("expiresAt", out _));
        Assert.All(during, static s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(HttpStatusCode.OK, lastMinute);
        Assert.All(after, static s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.All(newAfter, static s => Assert.Equal(HttpStatusCode.OK, s));
        var one = await admin.GetStringAsync("manage/keys/" + id);
        Assert.DoesNotContain(newSecret, one, StringComparison.Ordinal);
        var records = await cluster.WaitForRecordsAsync(id, 8);
        Assert.Equal(8, records.Count(static r => r.Status == 200));
    }

    [Fact]
    public async Task Rotate_ZeroGrace_RevokesTheOldSecretAtOnce_AndAgainKeepsOnlyTheNewest()
    {
        // Arrange
        await using var cluster = await GatewayCluster.StartAsync(1);
        using var admin = Admin(cluster.Http(0));
        var (id, first) = await CreateKeyAsync(admin);

        // Act
        var second = await RotateAsync(admin, id, """{"gracePeriod":"PT0S"}""");
        var third = await RotateAsync(admin, id, "");
        var statuses = new[] { await CallAsync(cluster, 0, first), await CallAsync(cluster, 0, second), await CallAsync(cluster, 0, third) };
        using var deleted = await admin.DeleteAsync("manage/keys/" + id);
        var afterDelete = new[] { await CallAsync(cluster, 0, second), await CallAsync(cluster, 0, third) };

        // Assert: the first is gone at once; the second is in the default one-hour grace of the third rotation.
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.OK, HttpStatusCode.OK], statuses);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.All(afterDelete, static s => Assert.Equal(HttpStatusCode.Unauthorized, s));
    }

    [Theory]
    [InlineData("""{"gracePeriod":"1h"}""", "gracePeriod: Input should be an ISO 8601 duration")]
    [InlineData("""{"gracePeriod":"-PT1H"}""", "gracePeriod: Input should be an ISO 8601 duration")]
    [InlineData("""{"gracePeriod":"P91D"}""", "gracePeriod: Input should be an ISO 8601 duration")]
    [InlineData("""{"gracePeriod":3600}""", "gracePeriod: Input should be an ISO 8601 duration")]
    [InlineData("""{"grace":"PT1H"}""", "grace: unknown field")]
    [InlineData("""[]""", "Input should be a valid dictionary")]
    [InlineData("""{""", "There was an error parsing the body")]
    public async Task Rotate_BadInput_Is400(string body, string message)
    {
        // Arrange
        await using var cluster = await GatewayCluster.StartAsync(1);
        using var admin = Admin(cluster.Http(0));
        var (id, secret) = await CreateKeyAsync(admin);

        // Act
        using var response = await admin.PostAsync($"manage/keys/{id}/rotate", Json(body));
        using var unknown = await admin.PostAsync("manage/keys/key_0123456789abcdef/rotate", Json("{}"));

        // Assert
        await GatewayAssert.ErrorAsync(response, 400, "invalid_request_error");
        Assert.Contains(message, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await GatewayAssert.ErrorAsync(unknown, 404, "not_found_error");
        Assert.Equal(HttpStatusCode.OK, await CallAsync(cluster, 0, secret));
    }

    private static async Task<(string Id, string Secret)> CreateKeyAsync(HttpClient admin)
    {
        using var created = await admin.PostAsync("manage/keys", Json("""{"name":"rotating"}"""));
        using var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        return (body.RootElement.GetProperty("id").GetString()!, body.RootElement.GetProperty("key").GetString()!);
    }

    private static async Task<string> RotateAsync(HttpClient admin, string id, string body)
    {
        using var rotated = await admin.PostAsync($"manage/keys/{id}/rotate", Json(body));
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        using var document = JsonDocument.Parse(await rotated.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("key").GetString()!;
    }

    private static async Task<HttpStatusCode> CallAsync(GatewayCluster cluster, int instance, string secret)
    {
        using var http = cluster.Http(instance);
        using var response = await http.SendAsync(RawClient.Messages(secret, RawClient.Body(FakeAnthropicUpstream.Models.Text, maxTokens: 15)));
        return response.StatusCode;
    }

    private static HttpClient Admin(HttpClient http)
    {
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayTestEnvironment.AdminKey);
        return http;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
