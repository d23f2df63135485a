using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Telemetry;

/// <summary>
/// A gateway whose fake Anthropic upstream has a name of its own, so the test can tell its metric points from those of
/// other gateways exporting in the same process; optionally a dead upstream before it for the same model (a fallback).
/// </summary>
public sealed class TelemetryArrangement : IAsyncDisposable
{
    private TelemetryArrangement(GatewayScenario scenario, string upstream, string? dead)
    {
        Scenario = scenario;
        Upstream = upstream;
        DeadUpstream = dead;
    }

    public GatewayScenario Scenario { get; }

    public TelemetryCapture Telemetry => Scenario.Host.Telemetry!;

    /// <summary>The fake upstream's name.</summary>
    public string Upstream { get; }

    /// <summary>The dead upstream's name, when there is one.</summary>
    public string? DeadUpstream { get; }

    public static async Task<TelemetryArrangement> StartAsync(string mode, bool withDeadPrimary = false, Action<Dictionary<string, string?>>? configure = null)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var upstream = "fake-" + id;
        var dead = withDeadPrimary ? "dead-" + id : null;
        var scenario = await GatewayScenario.StartAsync(mode, configure: settings =>
        {
            foreach (var key in settings.Keys.Where(static k => k.StartsWith("Gateway:Upstreams:anthropic:", StringComparison.Ordinal)).ToList())
            {
                settings["Gateway:Upstreams:" + upstream + key["Gateway:Upstreams:anthropic".Length..]] = settings[key];
                settings.Remove(key);
            }

            settings[$"Gateway:Upstreams:{upstream}:Models"] = "fake-*";
            if (dead is not null)
            {
                // More specific than fake-*, so tried first; nothing listens on its port.
                settings[$"Gateway:Upstreams:{dead}:Kind"] = "anthropic";
                settings[$"Gateway:Upstreams:{dead}:BaseUrl"] = $"http://127.0.0.1:{FreePort.Next()}/";
                settings[$"Gateway:Upstreams:{dead}:ApiKey"] = "sk-ant-dead-upstream-telemetry-0000000000";
                settings[$"Gateway:Upstreams:{dead}:Models"] = FakeAnthropicUpstream.Models.Text;
            }

            settings["Gateway:Resilience:FirstRetryDelay"] = "00:00:00.010";
            settings["Gateway:Resilience:MaxRetryDelay"] = "00:00:00.050";
            configure?.Invoke(settings);
        });
        return new TelemetryArrangement(scenario, upstream, dead);
    }

    /// <summary>The call's server span and its upstream attempts' client spans, once all have ended.</summary>
    public async Task<(CapturedSpan Server, IReadOnlyList<CapturedSpan> Attempts)> CallSpansAsync(string requestId, int attempts)
    {
        var spans = await Telemetry.WaitForSpansAsync(
            all => all.FirstOrDefault(s => s.Text("qhaigc.request_id") == requestId) is { } server &&
                   all.Count(s => s.ParentSpanId == server.SpanId && s.Kind == System.Diagnostics.ActivityKind.Client) >= attempts,
            $"server span of {requestId} with {attempts} attempt span(s)");
        var server = spans.Single(s => s.Text("qhaigc.request_id") == requestId);
        return (server, [.. spans.Where(s => s.ParentSpanId == server.SpanId && s.Kind == System.Diagnostics.ActivityKind.Client)]);
    }

    public ValueTask DisposeAsync() => Scenario.DisposeAsync();
}
