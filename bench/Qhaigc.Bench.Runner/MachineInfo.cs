using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Qhaigc.Bench.Runner;

/// <summary>The machine and tools a result was measured on, for the record.</summary>
public static class MachineInfo
{
    public static double[] LoadAverage()
    {
        var parts = File.ReadAllText("/proc/loadavg").Split(' ');
        return [.. parts.Take(3).Select(static p => double.Parse(p, CultureInfo.InvariantCulture))];
    }

    public static List<string> Describe(BenchOptions options, double[] loadAtStart, double[] loadAtEnd)
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(static l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memory = File.ReadLines("/proc/meminfo").First(static l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var os = File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(static l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"')
            : null;
        return
        [
            $"Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; commit {Run("git", "-C", options.RepositoryRoot, "rev-parse", "--short", "HEAD")}",
            $"Command: `bench/run.sh{(options.Arguments.Count > 0 ? " " + string.Join(' ', options.Arguments) : "")}`" +
            (options.Quick ? " (a harness check; numbers not for the record)" : ""),
            $"Machine: {cpu}, {Environment.ProcessorCount} cores, {long.Parse(memory, CultureInfo.InvariantCulture) / (1024 * 1024)} GiB; " +
            $"{os ?? RuntimeInformation.OSDescription}, kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}",
            $"Runtime: {RuntimeInformation.FrameworkDescription}; gateway in standalone mode (Kestrel), Release build, default settings",
            $"Tools: {Run("wrk", "-v").Split('\n')[0]}; {Run("curl", "--version").Split('\n')[0].Split(' ')[..2].Aggregate(static (a, b) => a + " " + b)}; " +
            $"Azurite (tables, in memory) on node {Run("node", "--version")}",
            $"Load average (1, 5, 15 min): {string.Join(" ", loadAtStart.Select(Load))} at start, {string.Join(" ", loadAtEnd.Select(Load))} at end",
            "Everything (load generator, fake upstream, gateway, Azurite) shares the same cores, on loopback.",
        ];
    }

    private static string Load(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Run(string fileName, params string[] arguments)
    {
        try
        {
            var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return output.Trim();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
