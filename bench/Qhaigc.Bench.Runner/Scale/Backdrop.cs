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
        AzuritePort = azuritePort;
        UpstreamUrl = upstreamUrl;
    }

    public string WorkDirectory { get; }

    public int AzuritePort { get; }

    public Uri UpstreamUrl { get; }

    public ChildProcess Upstream => _upstream;

    public ChildProcess Azurite => _azurite;

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
                [Servers.BuiltDll(_root, "Qhaigc.Bench.Proxy"), "--urls", url, "--upstream", UpstreamUrl.AbsoluteUri],
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

        return ChildProcess.Start(ScaleContenderNames.Of(contender), "dotnet", [Servers.BuiltDll(_root, "Qhaigc.Bench.GatewayHost"), "--urls", url],
            WorkDirectory, Path.Combine(WorkDirectory, logName), settings);
    }

    public void Dispose()
    {
        _upstream.Dispose();
        _azurite.Dispose();
    }

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
}
