using System.Globalization;

namespace Qhaigc.Bench.Runner;

/// <summary>Azurite (tables, in memory), the fake upstream and the gateway, each on a free loopback port.</summary>
public sealed class Servers : IDisposable
{
    /// <summary>A fixed development key: the gateway creates it at start-up because storage is local Azurite.</summary>
    public const string GatewayKey = "sk-qh-bench-key-not-a-secret-0000000000000000000001";

    /// <summary>Azurite's well-known development account (public and documented, not a secret).</summary>
    private const string AzuriteAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly List<ChildProcess> _processes = [];

    public required ChildProcess Azurite { get; init; }

    public required ChildProcess Upstream { get; init; }

    public required ChildProcess Gateway { get; init; }

    /// <summary>A bare reverse proxy (YARP's forwarder) in front of the fake upstream: the floor any .NET proxy pays.</summary>
    public required ChildProcess Proxy { get; init; }

    public required Uri ProxyUrl { get; init; }

    public required int AzuritePort { get; init; }

    public required Uri UpstreamUrl { get; init; }

    public required Uri GatewayUrl { get; init; }

    /// <summary>The gateway at the baseline commit (<c>--baseline</c>), once <see cref="StartBaselineAsync"/> started it.</summary>
    public ChildProcess? Baseline { get; private set; }

    public Uri? BaselineUrl { get; private set; }

    /// <summary>The gateway's settings, for a second gateway with the same ones.</summary>
    private Dictionary<string, string> GatewaySettings { get; init; } = new(StringComparer.Ordinal);

    private string WorkDirectory { get; init; } = "";

    private string RepositoryRoot { get; init; } = "";

    public static async Task<Servers> StartAsync(BenchOptions options, string workDirectory, int streamEvents)
    {
        var root = options.RepositoryRoot;
        var azuriteEntry = Path.Combine(root, "node_modules", "azurite", "dist", "src", "table", "main.js");
        var upstreamDll = BuiltDll(root, "Qhaigc.Bench.FakeUpstream");
        var gatewayDll = BuiltDll(root, "Qhaigc.Bench.GatewayHost");
        var proxyDll = BuiltDll(root, "Qhaigc.Bench.Proxy");
        if (!File.Exists(azuriteEntry))
        {
            throw new InvalidOperationException("Azurite is not installed: run `npm ci` in the repository root (bench/run.sh does).");
        }

        int azuritePort = Ports.Free(), upstreamPort = Ports.Free(), gatewayPort = Ports.Free(), proxyPort = Ports.Free();
        var started = new List<ChildProcess>();
        try
        {
            var azurite = ChildProcess.Start("azurite", "node",
                [azuriteEntry, "--tableHost", "127.0.0.1", "--tablePort", Int(azuritePort), "--inMemoryPersistence",
                    "--silent", "--skipApiVersionCheck", "--disableProductStyleUrl"],
                root, Path.Combine(workDirectory, "azurite.log"));
            started.Add(azurite);

            var upstream = ChildProcess.Start("fake upstream", "dotnet",
                [upstreamDll, "--urls", $"http://127.0.0.1:{upstreamPort}", "--events", Int(streamEvents), "--count-delay-ms", Int(options.CountDelayMs)],
                workDirectory, Path.Combine(workDirectory, "upstream.log"));
            started.Add(upstream);

            await Ports.WaitListeningAsync(azuritePort, azurite, TimeSpan.FromSeconds(30));
            await Ports.WaitListeningAsync(upstreamPort, upstream, TimeSpan.FromSeconds(30));

            var upstreamUrl = new Uri($"http://127.0.0.1:{upstreamPort}/");
            var proxy = ChildProcess.Start("proxy", "dotnet",
                [proxyDll, "--urls", $"http://127.0.0.1:{proxyPort}", "--upstream", upstreamUrl.AbsoluteUri],
                workDirectory, Path.Combine(workDirectory, "proxy.log"));
            started.Add(proxy);
            // The gateway runs from an empty directory, so no local.settings.json can change what is measured.
            var environment = GatewaySettingsFor(azuritePort, upstreamUrl);
            foreach (var (key, value) in options.GatewayEnvironment)
            {
                environment[key] = value;
            }

            var gateway = ChildProcess.Start("gateway", "dotnet", [gatewayDll, "--urls", $"http://127.0.0.1:{gatewayPort}"],
                workDirectory, Path.Combine(workDirectory, "gateway.log"), environment);
            started.Add(gateway);
            await Ports.WaitListeningAsync(gatewayPort, gateway, TimeSpan.FromSeconds(60));
            await Ports.WaitListeningAsync(proxyPort, proxy, TimeSpan.FromSeconds(30));

            var servers = new Servers
            {
                Azurite = azurite,
                Upstream = upstream,
                Gateway = gateway,
                Proxy = proxy,
                ProxyUrl = new Uri($"http://127.0.0.1:{proxyPort}/"),
                AzuritePort = azuritePort,
                UpstreamUrl = upstreamUrl,
                GatewayUrl = new Uri($"http://127.0.0.1:{gatewayPort}/"),
                GatewaySettings = environment,
                WorkDirectory = workDirectory,
                RepositoryRoot = root,
            };
            servers._processes.AddRange(started);
            return servers;
        }
        catch
        {
            foreach (var process in started)
            {
                process.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Starts the baseline's gateway host next to the gateway: its own port, the same settings, upstream and Azurite.
    /// Called once the gateway answers, so that the development key exists and the two do not both create it.
    /// </summary>
    public async Task StartBaselineAsync(string gatewayDll)
    {
        var (baseline, url) = await StartGatewayAsync("baseline gateway", gatewayDll, "baseline-gateway.log", GatewaySettings);
        _processes.Add(baseline);
        Baseline = baseline;
        BaselineUrl = url;
    }

    /// <summary>
    /// Another process of this tree's gateway host, with the gateway's settings and <paramref name="extraSettings"/> over
    /// them, on its own port; the caller stops it (disposes it) when done. Called once the gateway answers, for the same
    /// reason as <see cref="StartBaselineAsync"/>.
    /// </summary>
    public Task<(ChildProcess Process, Uri Url)> StartExtraGatewayAsync(string name, string logName, IReadOnlyDictionary<string, string> extraSettings)
    {
        var settings = new Dictionary<string, string>(GatewaySettings, StringComparer.Ordinal);
        foreach (var (key, value) in extraSettings)
        {
            settings[key] = value;
        }

        return StartGatewayAsync(name, BuiltDll(RepositoryRoot, "Qhaigc.Bench.GatewayHost"), logName, settings);
    }

    private async Task<(ChildProcess Process, Uri Url)> StartGatewayAsync(string name, string gatewayDll, string logName, Dictionary<string, string> settings)
    {
        var port = Ports.Free();
        var process = ChildProcess.Start(name, "dotnet", [gatewayDll, "--urls", $"http://127.0.0.1:{port}"],
            WorkDirectory, Path.Combine(WorkDirectory, logName), settings);
        try
        {
            await Ports.WaitListeningAsync(port, process, TimeSpan.FromSeconds(60));
        }
        catch
        {
            process.Dispose();
            throw;
        }

        return (process, new Uri($"http://127.0.0.1:{port}/"));
    }

    /// <summary>The gateway's settings against this Azurite and fake upstream: default settings, the development key.</summary>
    public static Dictionary<string, string> GatewaySettingsFor(int azuritePort, Uri upstreamUrl) => new(StringComparer.Ordinal)
    {
        ["Gateway__Storage__ConnectionString"] =
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteAccountKey};" +
            $"TableEndpoint=http://127.0.0.1:{azuritePort}/devstoreaccount1;",
        ["Gateway__DevKey"] = GatewayKey,
        ["Gateway__Upstreams__fake__Kind"] = "anthropic",
        ["Gateway__Upstreams__fake__BaseUrl"] = upstreamUrl.AbsoluteUri,
        ["Gateway__Upstreams__fake__ApiKey"] = "sk-ant-bench-upstream-not-a-secret",
        ["Gateway__Upstreams__fake__Models"] = "*",
        ["DOTNET_ENVIRONMENT"] = "Production",
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
    };

    public void Dispose()
    {
        // The gateways first, so their last usage writes do not meet a stopped Azurite.
        for (var i = _processes.Count - 1; i >= 0; i--)
        {
            _processes[i].Dispose();
        }
    }

    public static string BuiltDll(string root, string project)
    {
        var path = Path.Combine(root, "bench", project, "bin", "Release", "net10.0", project + ".dll");
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException($"{path} is missing: build with `dotnet build bench/Qhaigc.Bench.slnx -c Release` (bench/run.sh does).");
    }

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
}
