using System.Net;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;
using Models = Qhaigc.Functions.Tests.TestDoubles.FakeAnthropicUpstream.Models;

namespace Qhaigc.Functions.Tests.Faults;

/// <summary>
/// Health per deployment and per model (docs/faults.md#health), end to end over real HTTP with the official SDK and
/// its own retries: one overloaded model never rests the upstream's other models, and an upstream that refuses the
/// gateway's own credentials is never reported to the client as a bad key.
/// </summary>
public sealed class UpstreamHealthTests
{
    public static TheoryData<string> Modes => GatewayHosts.Modes;

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task OverloadedModel_LeavesEveryOtherModelOnTheSameUpstreamAnswering(string mode)
    {
        // Arrange: one upstream serves every model; one of them answers 529 to every call.
        await using var scenario = await GatewayScenario.StartAsync(mode, configure: static s =>
        {
            s["Gateway:Resilience:FirstRetryDelay"] = "00:00:00.010";
            s["Gateway:Resilience:MaxRetryDelay"] = "00:00:00.050";
        });
        scenario.Upstream!.FailuresLeft = int.MaxValue;
        var client = RetryingSdk(scenario);

        // Act: two client calls to the overloaded model, each retried by the gateway and by the SDK (far past the
        // breaker's threshold), then calls to another model on the same upstream, whole and streamed.
        for (var i = 0; i < 2; i++)
        {
            var overloaded = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => client.Messages.Create(Params(Models.Flaky)));
            Assert.Equal(529, (int)overloaded.StatusCode);
        }

        var callsToTheBusyModel = scenario.Upstream.MessageCalls;
        var message = await client.Messages.Create(Params(Models.Text));
        var events = 0;
        await foreach (var streamEvent in client.Messages.CreateStreaming(Params(Models.ToolUse)))
        {
            events++;
        }

        // Assert: the other model answered at once; the busy one rests alone.
        Assert.True(callsToTheBusyModel >= 6, $"the busy model was tried {callsToTheBusyModel} times");
        Assert.Equal("msg_01XFDUDYJgAACzvnptvVoYEL", message.ID);
        Assert.True(events > 3, $"{events} events");
        Assert.Equal(callsToTheBusyModel + 2, scenario.Upstream.MessageCalls);
        using var http = scenario.Http();
        using var busy = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Flaky)));
        await GatewayAssert.ErrorAsync(busy, 529, "overloaded_error");
        Assert.Equal(callsToTheBusyModel + 2, scenario.Upstream.MessageCalls);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task UpstreamRefusingTheGatewaysCredentials_IsNeverReportedAsTheClientsBadKey(string mode)
    {
        // Arrange: the upstream's account was revoked: every call is answered 401 "invalid x-api-key".
        await using var scenario = await GatewayScenario.StartAsync(mode);
        scenario.Upstream!.OutageStatus = 401;
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text)));
        var viaSdk = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => RetryingSdk(scenario).Messages.Create(Params(Models.ToolUse)));

        // Assert: a retryable 503 that says nothing of keys; the refusing upstream got one call in all, and the
        // operator is told which deployment to fix.
        await GatewayAssert.ErrorAsync(response, 503, "api_error");
        Assert.Equal("true", RawClient.Header(response, "x-should-retry"));
        Assert.DoesNotContain("x-api-key", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(503, (int)viaSdk.StatusCode);
        Assert.Equal(1, scenario.Upstream.MessageCalls);
        Assert.Contains("Upstream anthropic refused the gateway's credentials", scenario.Host.CapturedLogs, StringComparison.Ordinal);
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, RawClient.Header(response, "request-id")!);
        Assert.Equal((UsageState.Failed, 503, "api_error", "anthropic"), (record.State, record.Status, record.ErrorType, record.Upstream));
    }

    [Fact]
    public async Task UpstreamRefusingTheGatewaysCredentials_HandsItsCallsToTheRestOfThePool()
    {
        // Arrange: two members of one pool; the first refuses the gateway's key.
        await using var arrangement = await FallbackArrangement.StartAsync(static s => s["Gateway:Upstreams:backup:Priority"] = "0");
        var scenario = arrangement.Scenario;
        arrangement.Primary.OutageStatus = 403;
        using var http = scenario.Http();

        // Act
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text, stream: i % 2 == 1)));
            statuses.Add(response.StatusCode);
        }

        // Assert: every client got its answer; the refusing member was asked once at most, then taken out.
        Assert.All(statuses, static s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.InRange(arrangement.Primary.MessageCalls, 0, 1);
        Assert.Equal(6, arrangement.Backup.MessageCalls);
    }

    [Fact]
    public async Task CountTokens_NeverRelaysARefusalOfTheGatewaysCredentials()
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone);
        scenario.Upstream!.OutageStatus = 401;
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text), path: "v1/messages/count_tokens"));

        // Assert
        await GatewayAssert.ErrorAsync(response, 503, "api_error");
        Assert.Contains("Upstream anthropic refused the gateway's credentials", scenario.Host.CapturedLogs, StringComparison.Ordinal);
    }

    private static AnthropicClient RetryingSdk(GatewayScenario scenario) => new()
    {
        ApiKey = scenario.Secret,
        BaseUrl = scenario.Host.BaseAddress.ToString().TrimEnd('/'),
        MaxRetries = 2,
    };

    private static MessageCreateParams Params(string model) => new()
    {
        Model = model,
        MaxTokens = 64,
        Messages = [new UserMessageParam { Content = "hi" }],
    };
}
