using System.Globalization;
using System.Text;

namespace Qhaigc.Bench.Runner.Scale;

/// <summary>
/// <c>bench/scale.sh coldstart|stream-cpu|streams</c>: the serverless-scale measurements (bench/README.md), each the
/// gateway and the bare proxy in the same run. Prints Markdown and writes it to <c>bench/results/scale-MODE-latest.md</c>
/// (<c>scale-coldstart-functions-latest.md</c> for the Functions worker's cold start).
/// </summary>
public static class ScaleCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = ScaleOptions.Parse(args);
        var work = Directory.CreateTempSubdirectory("qhaigc-scale-").FullName;
        Log($"logs in {work}");
        var loadAtStart = MachineInfo.LoadAverage();
        string report;
        using (var backdrop = await Backdrop.StartAsync(options.RepositoryRoot, work))
        {
            if (options.Published)
            {
                await backdrop.PublishAsync(Log, functionsApp: options.Functions, selfContained: options.SelfContained);
            }

            report = options.Mode switch
            {
                "coldstart" when options.Functions => await new FunctionsColdStartRun(options, backdrop, Log).RunAsync(),
                "coldstart" => await new ColdStartRun(options, backdrop, Log).RunAsync(),
                "stream-cpu" => await new StreamCpuRun(options, backdrop, Log).RunAsync(),
                _ => await new PacedStreamsRun(options, backdrop, Log).RunAsync(),
            };
        }

        var text = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; command `bench/scale.sh {options.Mode}{(options.Arguments.Count > 0 ? " " + string.Join(' ', options.Arguments) : "")}`")
            .AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores; load average {string.Join(" ", loadAtStart.Select(static l => l.ToString("0.00", CultureInfo.InvariantCulture)))} at start, " +
                $"{string.Join(" ", MachineInfo.LoadAverage().Select(static l => l.ToString("0.00", CultureInfo.InvariantCulture)))} at end")
            .AppendLine((options.Functions ? "Functions app" : "Gateway host") + " and proxy" +
                (options.SelfContained ? " published self-contained: Release, linux-x64, composite ReadyToRun (runtime and app compiled together)."
                    : options.Published ? " as published for deployment: Release, linux-x64, ReadyToRun." : ": the Release build (JIT)."))
            .AppendLine()
            .Append(report)
            .ToString();
        Console.WriteLine(text);
        var output = Path.Combine(options.RepositoryRoot, "bench", "results");
        Directory.CreateDirectory(output);
        await File.WriteAllTextAsync(Path.Combine(output, $"scale-{options.Mode}{(options.Functions ? "-functions" : "")}-latest.md"), text);
        // The processes' logs are kept when a run saw a failure (the report says "failed" or "differ").
        if (report.Contains("(failed", StringComparison.Ordinal) || report.Contains(" differ)", StringComparison.Ordinal))
        {
            Log($"some streams failed: the processes' logs are kept in {work}");
        }
        else
        {
            Directory.Delete(work, recursive: true);
        }

        return 0;
    }

    private static void Log(string message) => Console.Error.WriteLine($"[scale {DateTime.Now:HH:mm:ss}] {message}");
}
