using System.Net;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Hosting;

/// <summary>What the standalone mode does per call with its production defaults (no test log levels).</summary>
public sealed class StandaloneDefaultsTests
{
    [Fact]
    public async Task Messages_StartsNoTraceActivity_WhenNothingListens()
    {
        // Arrange: production's log levels. ASP.NET Core's hosting starts an Activity for every request whenever its
        // logger is on at any level, and HttpClient then sends it upstream as a traceparent header (docs/performance.md: a cost
        // paid on every call for a trace nobody records).
        var environment = await GatewayTestEnvironment.CreateAsync();
        await using var upstream = await FakeAnthropicUpstream.StartAsync();
        var (secret, _) = await environment.CreateKeyAsync();
        await using var gateway = await StandaloneGatewayHost.StartAsync(environment.Settings(upstream.GatewaySettings()), minimumLevel: LogLevel.Warning);
        using var http = RawClient.Create(gateway.BaseAddress);

        // Act
        using var response = await http.SendAsync(RawClient.Messages(secret, RawClient.Body(FakeAnthropicUpstream.Models.Text)));

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(upstream.Received);
        Assert.False(received.Headers.ContainsKey("traceparent"), "The upstream got a traceparent header: an Activity was started for the call.");
    }

    [Theory]
    [InlineData("V1/Messages/", HttpStatusCode.OK)]
    [InlineData("v1/messages/count_tokens/", HttpStatusCode.OK)]
    [InlineData("v1/messagesx", HttpStatusCode.NotFound)]
    public async Task ModelCalls_TakeTheirRouteAsRoutingMatchesIt_BeforeRouting(string path, HttpStatusCode expected)
    {
        // Arrange: the model calls are dispatched before endpoint routing (Hosting/HotRoutes.cs), which must match
        // them as routing would: any case, one trailing slash; anything else is still routing's (the fallback's 404).
        var environment = await GatewayTestEnvironment.CreateAsync();
        await using var upstream = await FakeAnthropicUpstream.StartAsync();
        var (secret, _) = await environment.CreateKeyAsync();
        await using var gateway = await StandaloneGatewayHost.StartAsync(environment.Settings(upstream.GatewaySettings()), minimumLevel: LogLevel.Warning);
        using var http = RawClient.Create(gateway.BaseAddress);

        // Act
        using var response = await http.SendAsync(RawClient.Messages(secret, RawClient.Body(FakeAnthropicUpstream.Models.Text), path: path));
        var body = await response.Content.ReadAsStringAsync();

        // Assert
        Assert.Equal(expected, response.StatusCode);
        Assert.Contains(expected == HttpStatusCode.OK ? (path.Contains("count_tokens") ? "\"input_tokens\"" : "\"type\":\"message\"") : "not_found_error", body);
    }
}
