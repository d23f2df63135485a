using System.Globalization;

namespace Qhaigc.Bench.Runner.Scale;

/// <summary>
/// What the scale runs measure against: Azurite (tables, in memory) and the fake upstream, started once; the gateway
/// and the bare proxy are launched on top, as often as a run needs (<see cref="Launch"/>).
/// </summary>
public sealed class Backdrop : IDisposable
{
    private readonly ChildProcess _azurite;
    private readonly ChildProcess _upstream;
    private readonly string _root;

    private Backdrop(string root, string work, ChildProcess azurite, ChildProcess upstream, int azuritePort, Uri upstreamUrl)
    {
        _root = root;
        WorkDirectory = work;
        _azurite = azurite;
        _upstream = upstream;
        GatewayDll = Servers.BuiltDll(root, "Qhaigc.Bench.GatewayHost");
        ProxyDll = Servers.BuiltDll(root, "Qhaigc.Bench.Proxy");
        AzuritePort = azuritePort;
        UpstreamUrl = upstreamUrl;
    }

    public string WorkDirectory { get; }

    public int AzuritePort { get; }

    public Uri UpstreamUrl { get; }

    public ChildProcess Upstream => _upstream;

    public ChildProcess Azurite => _azurite;

    /// <summary>The gateway host and the proxy to launch: the Release build, unless <see cref="PublishAsync"/> replaced them.</summary>
    public string GatewayDll { get; private set; } = "";

    public string ProxyDll { get; private set; } = "";

    /// <summary>
    /// Publishes the gateway host and the bare proxy as the Functions app is deployed (Release, linux-x64,
    /// ReadyToRun: docs/performance.md#cold-start) into the work directory, and launches those from now on.
    /// </summary>
    public async Task PublishAsync(Action<string> log)
    {
        foreach (var (project, set) in new (string, Action<string>)[] { ("Qhaigc.Bench.GatewayHost", dll => GatewayDll = dll), ("Qhaigc.Bench.Proxy", dll => ProxyDll = dll) })
        {
            var output = Path.Combine(WorkDirectory, "published", project);
            log($"publishing {project} (ReadyToRun, linux-x64)");
            var result = await Tool.RunAsync("dotnet",
                ["publish", Path.Combine(_root, "bench", project), "-c", "Release", "-r", "linux-x64", "--self-contained", "false",
                    "-p:PublishReadyToRun=true", "-o", output, "-v", "quiet", "-nologo", "-clp:ErrorsOnly"],
                TimeSpan.FromMinutes(15));
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"dotnet publish {project} failed: {result.StandardError}{result.StandardOutput}");
            }

            set(Path.Combine(output, project + ".dll"));
        }
    }

    public static async Task<Backdrop> StartAsync(string root, string work)
    {
        var azuriteEntry = Path.Combine(root, "node_modules", "azurite", "dist", "src", "table", "main.js");
        if (!File.Exists(azuriteEntry))
        {
            throw new InvalidOperationException("Azurite is not installed: run `npm ci` in the repository root (bench/scale.sh does).");
        }

        int azuritePort = Ports.Free(), upstreamPort = Ports.Free();
        var azurite = ChildProcess.Start("azurite", "node",
            [azuriteEntry, "--tableHost", "127.0.0.1", "--tablePort", Int(azuritePort), "--inMemoryPersistence",
                "--silent", "--skipApiVersionCheck", "--disableProductStyleUrl"],
            root, Path.Combine(work, "azurite.log"));
        ChildProcess? upstream = null;
        try
        {
            upstream = ChildProcess.Start("fake upstream", "dotnet",
                [Servers.BuiltDll(root, "Qhaigc.Bench.FakeUpstream"), "--urls", $"http://127.0.0.1:{upstreamPort}"],
                work, Path.Combine(work, "upstream.log"));
            await Ports.WaitListeningAsync(azuritePort, azurite, TimeSpan.FromSeconds(30));
            await Ports.WaitListeningAsync(upstreamPort, upstream, TimeSpan.FromSeconds(30));
            return new Backdrop(root, work, azurite, upstream, azuritePort, new Uri($"http://127.0.0.1:{upstreamPort}/"));
        }
        catch
        {
            upstream?.Dispose();
            azurite.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Starts one contender on <paramref name="port"/>: the bench gateway host with the gateway's settings (and
    /// <paramref name="extra"/> over them), or the bare proxy in front of the fake upstream. Not waited for.
    /// </summary>
    public ChildProcess Launch(ScaleContender contender, int port, string logName, IReadOnlyDictionary<string, string>? extra = null)
    {
        var url = $"http://127.0.0.1:{port}";
        if (contender == ScaleContender.Proxy)
        {
            return ChildProcess.Start("proxy", "dotnet",
                [ProxyDll, "--urls", url, "--upstream", UpstreamUrl.AbsoluteUri],
                WorkDirectory, Path.Combine(WorkDirectory, logName), extra);
        }

        var settings = Servers.GatewaySettingsFor(AzuritePort, UpstreamUrl);
        if (contender == ScaleContender.GatewayMemoryStore)
        {
            settings["BENCH_USAGE_STORE"] = "memory";
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        return ChildProcess.Start(ScaleContenderNames.Of(contender), "dotnet", [GatewayDll, "--urls", url],
            WorkDirectory, Path.Combine(WorkDirectory, logName), settings);
    }

    public void Dispose()
    {
        _upstream.Dispose();
        _azurite.Dispose();
    }

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
}
