using System.Diagnostics;
using Qhaigc.Functions.Tests.Infrastructure;
using Attr = Qhaigc.Functions.Telemetry.TelemetryNames.Attributes;
using Metrics = Qhaigc.Functions.Telemetry.TelemetryNames.Metrics;
using Models = Qhaigc.Functions.Tests.TestDoubles.FakeAnthropicUpstream.Models;

namespace Qhaigc.Functions.Tests.Telemetry;

/// <summary>
/// The opt-ins (docs/telemetry.md): an upstream is a third party, so it sees no <c>traceparent</c> unless the operator
/// asks for one; the key id is a metric dimension only when the operator asks for it.
/// </summary>
public sealed class TraceContextTests
{
    [Fact]
    public async Task Upstream_GetsNoTraceparent_ByDefault_EvenWhenTheClientSentOne()
    {
        // Arrange
        await using var arrangement = await TelemetryArrangement.StartAsync(GatewayHosts.Standalone);
        var scenario = arrangement.Scenario;
        using var http = scenario.Http();
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var request = RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text, stream: true));
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");

        // Act
        using var response = await http.SendAsync(request);
        await response.Content.ReadAsStringAsync();
        var (server, attempts) = await arrangement.CallSpansAsync(RawClient.Header(response, "request-id")!, attempts: 1);

        // Assert: the call was traced, and nothing of the trace went upstream.
        Assert.Equal(traceId, server.TraceId);
        Assert.Single(attempts);
        var received = Assert.Single(scenario.Upstream!.Received).Headers;
        Assert.False(received.ContainsKey("traceparent"), string.Join("; ", received.Keys));
        Assert.False(received.ContainsKey("tracestate"));
        Assert.DoesNotContain(received.Values, v => v.Contains(traceId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Upstream_GetsTheAttemptsTraceparent_WhenTheOperatorOptsIn()
    {
        // Arrange
        await using var arrangement = await TelemetryArrangement.StartAsync(GatewayHosts.Standalone,
            configure: static s => s["Gateway:Telemetry:PropagateToUpstreams"] = "true");
        var scenario = arrangement.Scenario;
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text)));
        await response.Content.ReadAsStringAsync();
        var (server, attempts) = await arrangement.CallSpansAsync(RawClient.Header(response, "request-id")!, attempts: 1);

        // Assert: the upstream's parent is the attempt's client span, in the call's trace.
        var attempt = Assert.Single(attempts);
        var traceparent = Assert.Single(scenario.Upstream!.Received).Headers["traceparent"];
        Assert.StartsWith($"00-{server.TraceId}-{attempt.SpanId}-", traceparent, StringComparison.Ordinal);
        Assert.True((Convert.ToByte(traceparent[^2..], 16) & 1) == 1, "sampled: " + traceparent);
    }

    [Fact]
    public async Task CallMetrics_NameTheKey_OnlyWhenTheOperatorOptsIn()
    {
        // Arrange: two gateways, one opted in.
        await using var plain = await TelemetryArrangement.StartAsync(GatewayHosts.Standalone);
        await using var perKey = await TelemetryArrangement.StartAsync(GatewayHosts.Standalone,
            configure: static s => s["Gateway:Telemetry:KeyIdInMetrics"] = "true");

        // Act
        foreach (var arrangement in new[] { plain, perKey })
        {
            using var http = arrangement.Scenario.Http();
            using var response = await http.SendAsync(RawClient.Messages(arrangement.Scenario.Secret, RawClient.Body(Models.Text)));
            await response.Content.ReadAsStringAsync();
        }

        // Assert
        var withoutKey = await plain.Telemetry.WaitForMetricAsync(Metrics.RequestDuration, p => p.Text(Attr.Upstream) == plain.Upstream);
        Assert.Null(withoutKey.Text(Attr.KeyId));
        var withKey = await perKey.Telemetry.WaitForMetricAsync(Metrics.RequestDuration, p => p.Text(Attr.Upstream) == perKey.Upstream);
        Assert.Equal(perKey.Scenario.Key.Id, withKey.Text(Attr.KeyId));
        var tokens = await perKey.Telemetry.WaitForMetricAsync(Metrics.TokenUsage, p => p.Text(Attr.Upstream) == perKey.Upstream);
        Assert.Equal(perKey.Scenario.Key.Id, tokens.Text(Attr.KeyId));
    }
}
