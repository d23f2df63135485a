using System.Globalization;

namespace Qhaigc.Bench.Runner;

/// <summary>Command-line options of the runner (see <c>bench/README.md</c>).</summary>
public sealed class BenchOptions
{
    public required string RepositoryRoot { get; init; }

    public required string OutputDirectory { get; init; }

    /// <summary>Short runs, to check the harness itself; the numbers are not worth recording.</summary>
    public bool Quick { get; init; }

    /// <summary>The options as given, for the record.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>Wait (up to <see cref="LoadWait"/>) for the one-minute load average to drop below this before starting.</summary>
    public double? MaxLoad { get; init; }

    public TimeSpan LoadWait { get; init; } = TimeSpan.FromMinutes(5);

    public int StreamEvents { get; init; } = 200;

    /// <summary>Extra settings for the gateway process (<c>--gateway-env Name=value</c>), to measure a setting's effect.</summary>
    public Dictionary<string, string> GatewayEnvironment { get; init; } = new(StringComparer.Ordinal);

    /// <summary>
    /// A git ref (<c>--baseline HEAD~1</c>): the gateway at that commit runs as a second process beside this tree's, and
    /// the scenarios that show a regression run against both in turn (<see cref="BaselineWorktree"/>).
    /// </summary>
    public string? Baseline { get; init; }

    /// <summary>Leave out the count-first scenario (<see cref="CountFirstRun"/>).</summary>
    public bool SkipCountFirst { get; init; }

    /// <summary>The fake upstream's delay before each count_tokens answer (<c>--count-delay-ms</c>); 0 measures loopback.</summary>
    public int CountDelayMs { get; init; }

    /// <summary>
    /// The offered load of the count-first scenario (<c>--count-first-rate</c>): a capped call takes its reservation and
    /// settlement in storage, which Azurite on two shared cores sustains at about a hundred calls a second, so the default
    /// stays well below that, where latency is not queueing.
    /// </summary>
    public int CountFirstRate { get; init; } = 50;

    public TimeSpan Warmup => TimeSpan.FromSeconds(Quick ? 2 : 5);

    public TimeSpan Saturation => TimeSpan.FromSeconds(Quick ? 3 : 8);

    public TimeSpan Paced => TimeSpan.FromSeconds(Quick ? 3 : 10);

    public int SequentialStreams => Quick ? 20 : 100;

    public static BenchOptions Parse(string[] args)
    {
        string? root = null, output = null;
        var quick = false;
        double? maxLoad = null;
        var loadWait = TimeSpan.FromMinutes(5);
        string? baseline = null;
        var skipCountFirst = false;
        var countDelayMs = 0;
        var countFirstRate = 50;
        var gatewayEnvironment = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--repo":
                    root = args[++i];
                    break;
                case "--out":
                    output = args[++i];
                    break;
                case "--quick":
                    quick = true;
                    break;
                case "--max-load":
                    maxLoad = double.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--load-wait-seconds":
                    loadWait = TimeSpan.FromSeconds(double.Parse(args[++i], CultureInfo.InvariantCulture));
                    break;
                case "--gateway-env":
                    var setting = args[++i].Split('=', 2);
                    gatewayEnvironment[setting[0]] = setting.Length > 1 ? setting[1] : "";
                    break;
                case "--baseline":
                    baseline = args[++i];
                    break;
                case "--skip-count-first":
                    skipCountFirst = true;
                    break;
                case "--count-first-rate":
                    countFirstRate = int.Parse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture);
                    break;
                case "--count-delay-ms":
                    countDelayMs = int.Parse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new ArgumentException(
                        $"Unknown option {args[i]}. Options: --repo DIR, --out DIR, --quick, --max-load N, --load-wait-seconds S, --gateway-env NAME=VALUE, --baseline REF, " +
                        "--skip-count-first, --count-first-rate N, --count-delay-ms N.");
            }
        }

        root ??= FindRepositoryRoot(Directory.GetCurrentDirectory())
                 ?? FindRepositoryRoot(AppContext.BaseDirectory)
                 ?? throw new ArgumentException("Run from inside the repository, or pass --repo.");
        return new BenchOptions
        {
            RepositoryRoot = root,
            OutputDirectory = output ?? Path.Combine(root, "bench", "results"),
            Quick = quick,
            MaxLoad = maxLoad,
            LoadWait = loadWait,
            GatewayEnvironment = gatewayEnvironment,
            Baseline = baseline,
            SkipCountFirst = skipCountFirst,
            CountDelayMs = countDelayMs,
            CountFirstRate = Math.Max(1, countFirstRate),
            Arguments = args,
        };
    }

    public static string? FindRepositoryRoot(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Qhaigc.Functions.sln")))
            {
                return directory.FullName;
            }
        }

        return null;
    }
}
