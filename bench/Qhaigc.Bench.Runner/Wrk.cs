using System.Globalization;
using System.Text.Json;

namespace Qhaigc.Bench.Runner;

/// <summary>
/// Drives HTTP load with wrk (a separate process): closed loop for throughput at saturation, or paced at a fixed
/// offered load with latency measured from each request's due time (<c>bench/wrk/paced.lua</c>).
/// </summary>
public sealed class Wrk(string scriptsDirectory)
{
    public static readonly TimeSpan Slack = TimeSpan.FromSeconds(30);

    public async Task<Numbers> SaturateAsync(Target target, string path, string bodyFile, int threads, int connections, TimeSpan duration)
    {
        var arguments = new List<string>
        {
            "-t", Int(threads), "-c", Int(connections), "-d", Seconds(duration), "--timeout", "10s",
            "-s", Path.Combine(scriptsDirectory, "post.lua"), target.Url(path).AbsoluteUri, "--", bodyFile,
        };
        arguments.AddRange(target.Headers);
        return await RunAsync(arguments, duration, null);
    }

    public async Task<Numbers> PacedAsync(Target target, string path, string bodyFile, int rate, int connections, TimeSpan duration)
    {
        var arguments = new List<string>
        {
            "-t", Int(connections), "-c", Int(connections), "-d", Seconds(duration), "--timeout", "10s",
            "-s", Path.Combine(scriptsDirectory, "paced.lua"), target.Url(path).AbsoluteUri, "--", Int(rate), bodyFile,
        };
        arguments.AddRange(target.Headers);
        return await RunAsync(arguments, duration, new Dictionary<string, string> { ["BENCH_CONNECTIONS"] = Int(connections) });
    }

    private static async Task<Numbers> RunAsync(List<string> arguments, TimeSpan duration, Dictionary<string, string>? environment)
    {
        var output = await Tool.RunAsync("wrk", arguments, duration + Slack, environment);
        var line = output.StandardOutput.Split('\n').FirstOrDefault(static l => l.StartsWith("BENCH ", StringComparison.Ordinal));
        if (output.ExitCode != 0 || line is null)
        {
            throw new InvalidOperationException($"wrk failed ({output.ExitCode}): {output.StandardError}{output.StandardOutput}");
        }

        using var json = JsonDocument.Parse(line["BENCH ".Length..]);
        var numbers = new Numbers();
        foreach (var property in json.RootElement.EnumerateObject())
        {
            numbers[property.Name] = property.Value.GetDouble();
        }

        return numbers;
    }

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan duration) => ((int)Math.Ceiling(duration.TotalSeconds)).ToString(CultureInfo.InvariantCulture) + "s";
}
