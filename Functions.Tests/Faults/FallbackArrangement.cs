using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Faults;

/// <summary>
/// A gateway with two fake Anthropic upstreams serving the same models (<c>fake-*</c>): <c>anthropic</c> is the primary
/// and <c>backup</c> the fallback (equal patterns, so a lower pool priority makes it one, docs/configuration.md#pools-and-affinity).
/// Retries are fast unless the test says otherwise.
/// </summary>
public sealed class FallbackArrangement : IAsyncDisposable
{
    private FallbackArrangement(GatewayScenario scenario, FakeAnthropicUpstream backup)
    {
        Scenario = scenario;
        Backup = backup;
    }

    public GatewayScenario Scenario { get; }

    public FakeAnthropicUpstream Primary => Scenario.Upstream!;

    public FakeAnthropicUpstream Backup { get; }

    public static async Task<FallbackArrangement> StartAsync(Action<Dictionary<string, string?>>? configure = null, bool withBackup = true)
    {
        var backup = await FakeAnthropicUpstream.StartAsync();
        var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone, configure: settings =>
        {
            settings["Gateway:Upstreams:anthropic:Models"] = "fake-*";
            if (withBackup)
            {
                foreach (var (key, value) in backup.GatewaySettings("backup", "fake-*"))
                {
                    settings[key] = value;
                }

                settings["Gateway:Upstreams:backup:Priority"] = "1";
            }

            settings["Gateway:Resilience:FirstRetryDelay"] = "00:00:00.010";
            settings["Gateway:Resilience:MaxRetryDelay"] = "00:00:00.050";
            configure?.Invoke(settings);
        });
        return new FallbackArrangement(scenario, backup);
    }

    public async ValueTask DisposeAsync()
    {
        await Scenario.DisposeAsync();
        await Backup.DisposeAsync();
    }
}
