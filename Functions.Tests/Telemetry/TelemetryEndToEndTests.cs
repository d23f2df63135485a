using System.Diagnostics;
using System.Net;
using Qhaigc.Functions.Telemetry;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;
using Attr = Qhaigc.Functions.Telemetry.TelemetryNames.Attributes;
using Metrics = Qhaigc.Functions.Telemetry.TelemetryNames.Metrics;
using Models = Qhaigc.Functions.Tests.TestDoubles.FakeAnthropicUpstream.Models;

namespace Qhaigc.Functions.Tests.Telemetry;

/// <summary>
/// Traces, metrics and logs of real calls (docs/telemetry.md), in both hosting modes: the standalone gateway exports
/// in memory, the Functions worker (another process) over OTLP/HTTP to a receiver in the test. Each call's usage
/// record holds the trace id of its server span.
/// </summary>
public sealed class TelemetryEndToEndTests
{
    [Theory]
    [MemberData(nameof(GatewayHosts.Modes), MemberType = typeof(GatewayHosts))]
    public async Task StreamedCall_ContinuesTheClientsTrace_WithGenAiSpansAndMetrics(string mode)
    {
        // Arrange: a client that sends its own traceparent.
        await using var arrangement = await TelemetryArrangement.StartAsync(mode);
        var scenario = arrangement.Scenario;
        using var http = scenario.Http();
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var parentId = ActivitySpanId.CreateRandom().ToHexString();
        using var request = RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text, stream: true));
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-{parentId}-01");

        // Act
        using var response = await http.SendAsync(request);
        await response.Content.ReadAsStringAsync();
        var requestId = RawClient.Header(response, "request-id")!;
        var (server, attempts) = await arrangement.CallSpansAsync(requestId, attempts: 1);
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, requestId);

        // Assert: the server span continues the client's trace, names the route, the key id and how the call ended.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(traceId, server.TraceId);
        Assert.Equal(TelemetryNames.Source, server.Source);
        Assert.Equal(ActivityKind.Server, server.Kind);
        Assert.Equal("POST /v1/messages", server.Name);
        Assert.Equal("/v1/messages", server.Text(Attr.HttpRoute));
        Assert.Equal(200, server.Number(Attr.HttpStatusCode));
        Assert.Equal(scenario.Key.Id, server.Text(Attr.KeyId));
        Assert.Equal("complete", server.Text(Attr.UsageState));
        Assert.Equal(Models.Text, server.Text(Attr.RequestModel));
        Assert.Equal(record.TimeToFirstByteMs!.Value / 1000, (double)server[Attr.TimeToFirstToken]!, 6);
        Assert.False(server.IsError);

        // ... one GenAI client span for the attempt, with the usage (input counting the cache tokens) ...
        var attempt = Assert.Single(attempts);
        Assert.Equal(traceId, attempt.TraceId);
        Assert.Equal("chat " + Models.Text, attempt.Name);
        Assert.Equal("chat", attempt.Text(Attr.OperationName));
        Assert.Equal("anthropic", attempt.Text(Attr.ProviderName));
        Assert.Equal(Models.Text, attempt.Text(Attr.RequestModel));
        Assert.Equal(Models.Text, attempt.Text(Attr.ResponseModel));
        Assert.Equal(arrangement.Upstream, attempt.Text(Attr.Upstream));
        Assert.Equal(record.InputTokens + record.CacheReadInputTokens + record.CacheCreationInputTokens, attempt.Number(Attr.InputTokens));
        Assert.Equal(record.OutputTokens, attempt.Number(Attr.OutputTokens));
        Assert.True(record.OutputTokens > 0);
        Assert.Null(attempt.Text(Attr.ErrorType));

        // ... the record holds the trace id ...
        Assert.Equal(traceId, record.TraceId);

        // ... and the metric points: time to first token, tokens by type, the call's duration, the attempt.
        bool Ours(CapturedMetricPoint p) => p.Text(Attr.Upstream) == arrangement.Upstream;
        var ttft = await arrangement.Telemetry.WaitForMetricAsync(Metrics.TimeToFirstToken, Ours);
        Assert.True(ttft.Count >= 1);
        Assert.Equal("anthropic", ttft.Text(Attr.ProviderName));
        var input = await arrangement.Telemetry.WaitForMetricAsync(Metrics.TokenUsage, p => Ours(p) && p.Text(Attr.TokenType) == "input");
        Assert.Equal(record.InputTokens + record.CacheReadInputTokens + record.CacheCreationInputTokens, input.Value);
        var output = await arrangement.Telemetry.WaitForMetricAsync(Metrics.TokenUsage, p => Ours(p) && p.Text(Attr.TokenType) == "output");
        Assert.Equal(record.OutputTokens, output.Value);
        var duration = await arrangement.Telemetry.WaitForMetricAsync(Metrics.RequestDuration, Ours);
        Assert.Equal("2xx", duration.Text(Attr.StatusClass));
        Assert.Equal("messages", duration.Text(Attr.Endpoint));
        Assert.Null(duration.Text(Attr.KeyId));
        await arrangement.Telemetry.WaitForMetricAsync(Metrics.OperationDuration, Ours);
        await arrangement.Telemetry.WaitForMetricAsync(Metrics.TimePerOutputToken, Ours);
        await arrangement.Telemetry.WaitForMetricAsync(Metrics.UpstreamAttempts, Ours);
        await arrangement.Telemetry.WaitForMetricAsync(Metrics.Overhead, static _ => true);
    }

    [Theory]
    [MemberData(nameof(GatewayHosts.Modes), MemberType = typeof(GatewayHosts))]
    public async Task RetriedCallWithFallback_EndsTheFailedAttemptsSpan_AndMarksTheFallback(string mode)
    {
        // Arrange: the first upstream for the model is dead, the second answers.
        await using var arrangement = await TelemetryArrangement.StartAsync(mode, withDeadPrimary: true);
        var scenario = arrangement.Scenario;
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text)));
        await response.Content.ReadAsStringAsync();
        var requestId = RawClient.Header(response, "request-id")!;
        var (server, attempts) = await arrangement.CallSpansAsync(requestId, attempts: 2);
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, requestId);

        // Assert: two attempt spans, the dead one failed with an error type, the live one answered.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var failed = Assert.Single(attempts, a => a.Text(Attr.Upstream) == arrangement.DeadUpstream);
        var answered = Assert.Single(attempts, a => a.Text(Attr.Upstream) == arrangement.Upstream);
        Assert.True(failed.IsError);
        Assert.NotNull(failed.Text(Attr.ErrorType));
        Assert.Equal(1, failed.Number(Attr.Attempt));
        Assert.False(answered.IsError);
        Assert.Equal(2, answered.Number(Attr.Attempt));
        Assert.True(answered.Number(Attr.OutputTokens) > 0);

        // ... the server span says a fallback happened, and how many attempts the call took ...
        var fallback = Assert.Single(server.Events, static e => e.Name == TelemetryNames.Events.Fallback);
        Assert.Equal(arrangement.Upstream, Captured.Text(fallback.Attributes[Attr.Upstream]));
        Assert.Equal(2, server.Number(Attr.Attempts));
        Assert.Equal("complete", server.Text(Attr.UsageState));

        // ... the record holds the same trace, and the failure is counted by upstream.
        Assert.Equal(server.TraceId, record.TraceId);
        Assert.Equal(2, record.UpstreamAttempts);
        var failure = await arrangement.Telemetry.WaitForMetricAsync(Metrics.UpstreamFailures, p => p.Text(Attr.Upstream) == arrangement.DeadUpstream);
        Assert.True(failure.Value >= 1);
        await arrangement.Telemetry.WaitForMetricAsync(Metrics.UpstreamAttempts, p => p.Text(Attr.Upstream) == arrangement.DeadUpstream);
        await arrangement.Telemetry.WaitForMetricAsync(Metrics.UpstreamAttempts, p => p.Text(Attr.Upstream) == arrangement.Upstream);
    }

    [Theory]
    [MemberData(nameof(GatewayHosts.Modes), MemberType = typeof(GatewayHosts))]
    public async Task RefusedCall_SaysWhy_OnTheSpan_InTheMetrics_AndInALogOfTheSameTrace(string mode)
    {
        // Arrange: a request without max_tokens.
        await using var arrangement = await TelemetryArrangement.StartAsync(mode);
        var scenario = arrangement.Scenario;
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret,
            """{"model":"fake-text","messages":[{"role":"user","content":"Hello"}]}"""));
        var requestId = RawClient.Header(response, "request-id")!;
        var (server, attempts) = await arrangement.CallSpansAsync(requestId, attempts: 0);
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, requestId);

        // Assert: no attempt; the span, the metric and the record agree on the refusal.
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(attempts);
        Assert.Equal(TelemetryNames.RefusalReasons.Validation, server.Text(Attr.RefusalReason));
        Assert.Equal("invalid_request_error", server.Text(Attr.ErrorType));
        Assert.Equal("failed", server.Text(Attr.UsageState));
        Assert.Equal(400, server.Number(Attr.HttpStatusCode));
        Assert.Equal(server.TraceId, record.TraceId);
        Assert.Equal(UsageState.Failed, record.State);
        var refusals = await arrangement.Telemetry.WaitForMetricAsync(Metrics.Refusals,
            static p => p.Text(Attr.RefusalReason) == TelemetryNames.RefusalReasons.Validation && p.Text(Attr.Endpoint) == "messages");
        Assert.True(refusals.Value >= 1);
        Assert.Equal("4xx", refusals.Text(Attr.StatusClass));

        // ... and the refusal's log line carries the trace id.
        await arrangement.Telemetry.WaitAsync(
            () => arrangement.Telemetry.Logs, logs => logs.Any(l => l.TraceId == server.TraceId && l.Text.Contains(requestId, StringComparison.Ordinal)),
            "log record of the refusal in the call's trace");
    }

    [Theory]
    [MemberData(nameof(GatewayHosts.Modes), MemberType = typeof(GatewayHosts))]
    public async Task CancelledCall_EndsItsSpans_AsCancelled(string mode)
    {
        // Arrange: a stream that stalls after its start, and a client that leaves once it has the first bytes.
        await using var arrangement = await TelemetryArrangement.StartAsync(mode);
        var scenario = arrangement.Scenario;
        string requestId;
        using (var leavingClient = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = scenario.Host.BaseAddress })
        {
            // Act
            using var leaving = await leavingClient.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Stall, stream: true)),
                HttpCompletionOption.ResponseHeadersRead);
            requestId = RawClient.Header(leaving, "request-id")!;
            Assert.True(await (await leaving.Content.ReadAsStreamAsync()).ReadAsync(new byte[16]) > 0);
        }

        var (server, attempts) = await arrangement.CallSpansAsync(requestId, attempts: 1);
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, requestId);

        // Assert
        Assert.Equal("cancelled", server.Text(Attr.UsageState));
        Assert.Equal(UsageState.Cancelled, record.State);
        Assert.Equal(server.TraceId, record.TraceId);
        var attempt = Assert.Single(attempts);
        Assert.Equal(arrangement.Upstream, attempt.Text(Attr.Upstream));
        var duration = await arrangement.Telemetry.WaitForMetricAsync(Metrics.RequestDuration,
            p => p.Text(Attr.Upstream) == arrangement.Upstream && p.Text(Attr.UsageState) == "cancelled");
        Assert.True(duration.Count >= 1);
    }
}
