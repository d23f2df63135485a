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
        FunctionsAppDirectory = Path.Combine(root, "Functions", "bin", "Release", "net10.0");
        BareWorkerDirectory = Path.Combine(root, "bench", "Qhaigc.Bench.BareWorker", "bin", "Release", "net10.0");
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

    /// <summary>The Functions app folder the emulated host starts the worker from: the Functions project's Release build, unless published.</summary>
    public string FunctionsAppDirectory { get; private set; }

    /// <summary>The bare Functions worker's app folder (bench/Qhaigc.Bench.BareWorker): its Release build, unless published.</summary>
    public string BareWorkerDirectory { get; private set; }

    /// <summary>
    /// Launched by their own executables (self-contained), not by <c>dotnet</c>: set by <see cref="PublishAsync"/>.
    /// </summary>
    public bool SelfContained { get; private set; }

    /// <summary>
    /// Publishes the bare proxy, and the gateway host (or, with <paramref name="functionsApp"/>, the Functions app
    /// itself), as the Functions app is deployed (Release, linux-x64, ReadyToRun: docs/performance.md#cold-start) into
    /// the work directory, and launches those from now on. With <paramref name="selfContained"/>: self-contained, with a
    /// composite ReadyToRun image of the runtime and the app together.
    /// </summary>
    public async Task PublishAsync(Action<string> log, bool functionsApp = false, bool selfContained = false)
    {
        var projects = new List<(string Project, string Path, Action<string> Set)>
        {
            ("Qhaigc.Bench.Proxy", Path.Combine(_root, "bench", "Qhaigc.Bench.Proxy"), dll => ProxyDll = dll),
            functionsApp
                ? ("Qhaigc.Functions", Path.Combine(_root, "Functions"), dll => FunctionsAppDirectory = Path.GetDirectoryName(dll)!)
                : ("Qhaigc.Bench.GatewayHost", Path.Combine(_root, "bench", "Qhaigc.Bench.GatewayHost"), dll => GatewayDll = dll),
        };
        if (functionsApp)
        {
            projects.Add(("Qhaigc.Bench.BareWorker", Path.Combine(_root, "bench", "Qhaigc.Bench.BareWorker"), dll => BareWorkerDirectory = Path.GetDirectoryName(dll)!));
        }

        foreach (var (project, path, set) in projects)
        {
            var output = Path.Combine(WorkDirectory, "published", project);
            log($"publishing {project} ({(selfContained ? "self-contained, composite ReadyToRun" : "ReadyToRun")}, linux-x64)");
            // The ReadyToRun images left by the other kind of publish would be reused as they are: a composite one
            // cannot run on the shared runtime. Each publish compiles afresh.
            var intermediate = Path.Combine(path, "obj", "Release", "net10.0", "linux-x64");
            if (Directory.Exists(intermediate))
            {
                Directory.Delete(intermediate, recursive: true);
            }

            var result = await Tool.RunAsync("dotnet",
                ["publish", path, "-c", "Release", "-r", "linux-x64", "--self-contained", selfContained ? "true" : "false",
                    "-p:PublishReadyToRun=true", $"-p:PublishReadyToRunComposite={(selfContained ? "true" : "false")}",
                    "-o", output, "-v", "quiet", "-nologo", "-clp:ErrorsOnly"],
                TimeSpan.FromMinutes(15));
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"dotnet publish {project} failed: {result.StandardError}{result.StandardOutput}");
            }

            set(Path.Combine(output, project + ".dll"));
        }

        SelfContained = selfContained;
    }

    /// <summary>
    /// Starts the emulated Functions host (bench/Qhaigc.Bench.FunctionsHost), set to start the worker from
    /// <paramref name="appDirectory"/> (<see cref="FunctionsAppDirectory"/> unless given) with the gateway's settings (and
    /// <paramref name="extra"/> over them) each time it is asked (<see cref="ChildProcess.AskAsync"/>). Its own start is
    /// not waited for.
    /// </summary>
    public ChildProcess StartFunctionsHost(string logName, IReadOnlyDictionary<string, string>? extra = null, string? appDirectory = null)
    {
        var settings = Servers.GatewaySettingsFor(AzuritePort, UpstreamUrl);
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        List<string> arguments = [Servers.BuiltDll(_root, "Qhaigc.Bench.FunctionsHost"), "--app", appDirectory ?? FunctionsAppDirectory];
        foreach (var (key, value) in settings)
        {
            arguments.AddRange(["--setting", $"{key}={value}"]);
        }

        return ChildProcess.Start("emulated Functions host", "dotnet", arguments, WorkDirectory, Path.Combine(WorkDirectory, logName), takesCommands: true);
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
            var (proxyProgram, proxyArguments) = Command(ProxyDll);
            return ChildProcess.Start("proxy", proxyProgram,
                [.. proxyArguments, "--urls", url, "--upstream", UpstreamUrl.AbsoluteUri],
                WorkDirectory, Path.Combine(WorkDirectory, logName), extra);
        }

        var settings = Servers.GatewaySettingsFor(AzuritePort, UpstreamUrl);
        // No scale run reads the outbound request counts; counting them would record HttpClient's metrics on every call.
        settings["BENCH_OUTBOUND_COUNTER"] = "off";
        if (contender == ScaleContender.GatewayMemoryStore)
        {
            settings["BENCH_USAGE_STORE"] = "memory";
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        var (program, arguments) = Command(GatewayDll);
        return ChildProcess.Start(ScaleContenderNames.Of(contender), program, [.. arguments, "--urls", url],
            WorkDirectory, Path.Combine(WorkDirectory, logName), settings);
    }

    /// <summary><c>dotnet app.dll</c>, or the app's own executable beside it when published self-contained.</summary>
    private (string Program, string[] Arguments) Command(string dll) =>
        SelfContained ? (Path.ChangeExtension(dll, null), []) : ("dotnet", [dll]);

    public void Dispose()
    {
        _upstream.Dispose();
        _azurite.Dispose();
    }

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
}
