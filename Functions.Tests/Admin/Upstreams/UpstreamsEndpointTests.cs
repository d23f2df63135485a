using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Qhaigc.Functions.Tests.Infrastructure;
using Models = Qhaigc.Functions.Tests.TestDoubles.FakeAnthropicUpstream.Models;

namespace Qhaigc.Functions.Tests.Admin.Upstreams;

/// <summary><c>GET /manage/upstreams</c> (docs/admin-api.md#upstreams) in both hosting modes, over real HTTP.</summary>
public sealed class UpstreamsEndpointTests
{
    public static TheoryData<string> Modes => GatewayHosts.Modes;

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Upstreams_ShowEachDeploymentsPool_State_AndModelStates(string mode)
    {
        // Arrange: a pool member at priority 1 and weight 3; one model fails until its circuit opens, another answers.
        await using var scenario = await GatewayScenario.StartAsync(mode, configure: static s =>
        {
            s["Gateway:Upstreams:anthropic:Models"] = "fake-*";
            s["Gateway:Upstreams:anthropic:Priority"] = "1";
            s["Gateway:Upstreams:anthropic:Weight"] = "3";
            s["Gateway:Resilience:MaxAttempts"] = "1";
            s["Gateway:Resilience:BreakerFailureThreshold"] = "2";
        });
        scenario.Upstream!.FailuresLeft = int.MaxValue;
        using var http = scenario.Http();
        for (var i = 0; i < 2; i++)
        {
            using var failed = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Flaky)));
            Assert.Equal(529, (int)failed.StatusCode);
        }

        using var answered = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text)));
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        using var admin = Admin(scenario);

        // Act
        using var response = await admin.GetAsync("manage/upstreams");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = body.RootElement;
        Assert.Equal("session", root.GetProperty("affinity").GetString());
        var upstream = Assert.Single(root.GetProperty("upstreams").EnumerateArray());
        Assert.Equal("anthropic", upstream.GetProperty("name").GetString());
        Assert.Equal(["fake-*"], upstream.GetProperty("models").EnumerateArray().Select(static m => m.GetString()));
        Assert.Equal((1, 3), (upstream.GetProperty("priority").GetInt32(), upstream.GetProperty("weight").GetInt32()));
        Assert.Equal("available", upstream.GetProperty("state").GetString());
        Assert.Equal((3, 2), (upstream.GetProperty("calls").GetInt32(), upstream.GetProperty("failures").GetInt32()));
        var models = upstream.GetProperty("modelStates").EnumerateArray().ToDictionary(static m => m.GetProperty("model").GetString()!);
        Assert.Equal(("resting", "failing"), (models[Models.Flaky].GetProperty("state").GetString(), models[Models.Flaky].GetProperty("reason").GetString()));
        Assert.True(models[Models.Flaky].GetProperty("restingUntil").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        Assert.Equal(("available", 1, 0), (models[Models.Text].GetProperty("state").GetString(),
            models[Models.Text].GetProperty("calls").GetInt32(), models[Models.Text].GetProperty("failures").GetInt32()));
        Assert.DoesNotContain(TestDoubles.FakeAnthropicUpstream.UpstreamKey, body.RootElement.GetRawText(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Upstreams_AreTheAdminsOnly_AndListTheLocalUpstream_WhenNoneIsConfigured(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        using var http = scenario.Http();
        using var admin = Admin(scenario);

        // Act
        using var withClientKey = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "manage/upstreams") { Headers = { { "x-api-key", scenario.Secret } } });
        using var listed = await admin.GetAsync("manage/upstreams");

        // Assert
        await GatewayAssert.ErrorAsync(withClientKey, 401, "authentication_error");
        using var body = JsonDocument.Parse(await listed.Content.ReadAsStringAsync());
        Assert.Equal("local", Assert.Single(body.RootElement.GetProperty("upstreams").EnumerateArray()).GetProperty("name").GetString());
    }

    private static HttpClient Admin(GatewayScenario scenario)
    {
        var client = scenario.Http();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayTestEnvironment.AdminKey);
        return client;
    }
}
