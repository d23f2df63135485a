using System.Globalization;

namespace Qhaigc.Bench.Runner.Scale;

/// <summary>The options of <c>bench/scale.sh MODE</c> (bench/README.md).</summary>
public sealed class ScaleOptions
{
    public required string Mode { get; init; }

    public required string RepositoryRoot { get; init; }

    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>coldstart: launches of each contender (in alternation).</summary>
    public int Launches { get; init; } = 7;

    /// <summary>Launch the gateway host and the proxy as published for deployment (ReadyToRun), not the Release build.</summary>
    public bool Published { get; init; }

    /// <summary>
    /// With <see cref="Published"/>, both contenders published self-contained with a composite ReadyToRun image (the
    /// runtime and the app compiled together), launched by their own executables (the Functions app's, as its
    /// <c>worker.config.json</c> names it).
    /// </summary>
    public bool SelfContained { get; init; }

    /// <summary>coldstart: the Functions worker under the emulated host instead of the standalone gateway.</summary>
    public bool Functions { get; init; }

    /// <summary>stream-cpu: rounds of every contender and stream length in turn.</summary>
    public int Rounds { get; init; } = 3;

    /// <summary>stream-cpu: seconds of closed-loop load per measurement.</summary>
    public int Seconds { get; init; } = 5;

    /// <summary>streams: streams open at once.</summary>
    public int Streams { get; init; } = 5000;

    /// <summary>streams: the model's pace, events per second of each stream.</summary>
    public int EventsPerSecond { get; init; } = 20;

    /// <summary>streams: how long each stream lasts.</summary>
    public int StreamSeconds { get; init; } = 30;

    /// <summary>streams: the streams are opened evenly over this many seconds (a listen backlog is not a benchmark).</summary>
    public int RampSeconds { get; init; } = 10;

    /// <summary>Extra settings for every gateway process (<c>--gateway-env NAME=VALUE</c>).</summary>
    public Dictionary<string, string> GatewayEnvironment { get; } = new(StringComparer.Ordinal);

    /// <summary>Extra settings for every process measured, gateway and proxy alike (<c>--env NAME=VALUE</c>).</summary>
    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    public static ScaleOptions Parse(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("coldstart" or "stream-cpu" or "streams"))
        {
            throw new ArgumentException("Usage: bench/scale.sh coldstart|stream-cpu|streams [options] (bench/README.md).");
        }

        string? root = null;
        int launches = 7, rounds = 3, seconds = 5, streams = 5000, rate = 20, streamSeconds = 30, ramp = 10;
        var gatewayEnvironment = new List<string>();
        var environment = new List<string>();
        bool published = false, functions = false, selfContained = false;
        for (var i = 1; i < args.Length; i++)
        {
            if (args[i] is "--published" or "--functions" or "--self-contained")
            {
                published |= args[i] is "--published" or "--self-contained";
                functions |= args[i] == "--functions";
                selfContained |= args[i] == "--self-contained";
                continue;
            }

            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--root": root = value; break;
                case "--launches": launches = Int(value); break;
                case "--rounds": rounds = Int(value); break;
                case "--seconds": seconds = Int(value); break;
                case "--streams": streams = Int(value); break;
                case "--events-per-second": rate = Int(value); break;
                case "--stream-seconds": streamSeconds = Int(value); break;
                case "--ramp-seconds": ramp = Int(value); break;
                case "--gateway-env": gatewayEnvironment.Add(value); break;
                case "--env": environment.Add(value); break;
                default: throw new ArgumentException($"Unknown option {args[i]} (bench/README.md).");
            }

            i++;
        }

        var options = new ScaleOptions
        {
            Mode = args[0],
            RepositoryRoot = Path.GetFullPath(root ?? FindRoot()),
            Arguments = args[1..].Where(static a => a != "--root").ToArray(),
            Published = published,
            SelfContained = selfContained,
            Functions = functions,
            Launches = Math.Max(1, launches),
            Rounds = Math.Max(1, rounds),
            Seconds = Math.Max(1, seconds),
            Streams = Math.Max(1, streams),
            EventsPerSecond = Math.Clamp(rate, 1, 1000),
            StreamSeconds = Math.Max(1, streamSeconds),
            RampSeconds = Math.Max(0, ramp),
        };
        foreach (var (list, into) in new[] { (gatewayEnvironment, options.GatewayEnvironment), (environment, options.Environment) })
        {
            foreach (var pair in list)
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    throw new ArgumentException($"Expected NAME=VALUE, got {pair}.");
                }

                into[pair[..equals]] = pair[(equals + 1)..];
            }
        }

        return options;
    }

    /// <summary>The settings a contender's process gets on top of its own.</summary>
    public Dictionary<string, string> ExtraFor(ScaleContender contender)
    {
        var extra = new Dictionary<string, string>(Environment, StringComparer.Ordinal);
        if (contender != ScaleContender.Proxy)
        {
            foreach (var (key, value) in GatewayEnvironment)
            {
                extra[key] = value;
            }
        }

        return extra;
    }

    private static int Int(string value) => int.Parse(value, CultureInfo.InvariantCulture);

    private static string FindRoot() =>
        BenchOptions.FindRepositoryRoot(Directory.GetCurrentDirectory()) ?? BenchOptions.FindRepositoryRoot(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException("Run from the repository (Qhaigc.Functions.sln not found).");
}
