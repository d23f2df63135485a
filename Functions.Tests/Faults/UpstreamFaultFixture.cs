using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Faults;

/// <summary>
/// One gateway for the upstream fault table: the fake Anthropic upstream serves <c>fake-*</c>, and an upstream named
/// <c>dead</c> serves <c>dead-*</c> on a loopback port where nothing listens (connection refused). Retries are fast
/// and the circuit breaker is off, so each row sees the retry policy alone.
/// </summary>
public sealed class UpstreamFaultFixture : IAsyncLifetime
{
    public const int MaxAttempts = 3;

    public GatewayScenario Scenario { get; private set; } = null!;

    public FakeAnthropicUpstream Upstream => Scenario.Upstream!;

    public async Task InitializeAsync()
    {
        var deadPort = FreePort.Next();
        Scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone, configure: settings =>
        {
            settings["Gateway:Upstreams:anthropic:Models"] = "fake-*";
            settings["Gateway:Upstreams:anthropic:IdleTimeout"] = "00:00:03";
            settings["Gateway:Upstreams:dead:Kind"] = "anthropic";
            settings["Gateway:Upstreams:dead:BaseUrl"] = $"http://127.0.0.1:{deadPort}/";
            settings["Gateway:Upstreams:dead:ApiKey"] = "sk-ant-dead-upstream-secret";
            settings["Gateway:Upstreams:dead:Models"] = "dead-*";
            settings["Gateway:Upstreams:dead:ConnectTimeout"] = "00:00:02";
            settings["Gateway:Resilience:MaxAttempts"] = MaxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings["Gateway:Resilience:FirstRetryDelay"] = "00:00:00.010";
            settings["Gateway:Resilience:MaxRetryDelay"] = "00:00:00.050";
            settings["Gateway:Resilience:BreakerFailureThreshold"] = "0";
            settings["Gateway:Streaming:PingInterval"] = "00:00:00.200";
        });
        Upstream.SlowFirstByteDelay = TimeSpan.FromSeconds(1);
    }

    public async Task DisposeAsync() => await Scenario.DisposeAsync();
}
