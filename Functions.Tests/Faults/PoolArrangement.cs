using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Faults;

/// <summary>
/// Three fake Anthropic upstreams, each a real server on its own port, configured as one pool (<c>m0</c>, <c>m1</c>,
/// <c>m2</c>, patterns <c>fake-*</c>, the given weights), behind one or more gateway instances on the same tables.
/// </summary>
public sealed class PoolArrangement : IAsyncDisposable
{
    private readonly List<IGatewayHost> _gateways;

    private PoolArrangement(GatewayTestEnvironment environment, FakeAnthropicUpstream[] members, List<IGatewayHost> gateways, string secret)
    {
        Environment = environment;
        Members = members;
        _gateways = gateways;
        Secret = secret;
    }

    public GatewayTestEnvironment Environment { get; }

    public IReadOnlyList<FakeAnthropicUpstream> Members { get; }

    public IReadOnlyList<IGatewayHost> Gateways => _gateways;

    public string Secret { get; }

    public static async Task<PoolArrangement> StartAsync(int[] weights, string affinity, int gateways = 1)
    {
        var environment = await GatewayTestEnvironment.CreateAsync();
        var members = await Task.WhenAll(weights.Select(static _ => FakeAnthropicUpstream.StartAsync()));
        var settings = environment.Settings();
        for (var i = 0; i < members.Length; i++)
        {
            foreach (var (key, value) in members[i].GatewaySettings("m" + i, "fake-*"))
            {
                settings[key] = value;
            }

            settings[$"Gateway:Upstreams:m{i}:Weight"] = weights[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings[$"Gateway:Upstreams:m{i}:ConnectTimeout"] = "00:00:02";
        }

        settings["Gateway:Routing:Affinity"] = affinity;
        settings["Gateway:Resilience:FirstRetryDelay"] = "00:00:00.010";
        settings["Gateway:Resilience:MaxRetryDelay"] = "00:00:00.050";
        var (secret, _) = await environment.CreateKeyAsync();
        var hosts = new List<IGatewayHost>();
        for (var i = 0; i < gateways; i++)
        {
            hosts.Add(await GatewayHosts.StartAsync(GatewayHosts.Standalone, settings));
        }

        return new PoolArrangement(environment, members, hosts, secret);
    }

    /// <summary>Calls per member so far.</summary>
    public int[] Calls() => Members.Select(static m => m.MessageCalls).ToArray();

    /// <summary>Which member took the calls between two counts (the one whose count rose), or -1 when none or several did.</summary>
    public static int Served(int[] before, int[] after)
    {
        var rose = Enumerable.Range(0, before.Length).Where(i => after[i] > before[i]).ToList();
        return rose.Count == 1 ? rose[0] : -1;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            await gateway.DisposeAsync();
        }

        foreach (var member in Members)
        {
            await member.DisposeAsync();
        }
    }
}
