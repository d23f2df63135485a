using System.Globalization;

namespace Qhaigc.Bench.Runner;

/// <summary>
/// A process's CPU time (user + system, from <c>/proc/PID/stat</c>) and memory (<c>VmRSS</c> and the peak
/// <c>VmHWM</c>, from <c>/proc/PID/status</c>) at one moment.
/// </summary>
public readonly record struct ProcSample(double CpuSeconds, long RssBytes, long PeakRssBytes)
{
    /// <summary>Clock ticks per second of the stat file's times; 100 on every Linux the benchmark has met.</summary>
    public static double TicksPerSecond { get; set; } = 100;

    public static ProcSample Read(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, utime 14, stime 15.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);

        long rss = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kilobytes(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kilobytes(line);
            }
        }

        return new ProcSample(ticks / TicksPerSecond, rss, peak);
    }

    private static long Kilobytes(string line)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
    }
}
