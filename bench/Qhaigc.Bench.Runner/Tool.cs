using System.Diagnostics;
using System.Text;

namespace Qhaigc.Bench.Runner;

/// <summary>Runs a command-line tool (wrk, curl) to completion and returns what it printed.</summary>
public static class Tool
{
    public sealed record Output(int ExitCode, string StandardOutput, string StandardError);

    /// <summary>Runs the tool to completion; <paramref name="started"/>, if given, gets the process once it runs, for a caller that may have to stop it from elsewhere.</summary>
    public static async Task<Output> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null, Action<Process>? started = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start.");
        started?.Invoke(process);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stdout)
                {
                    stdout.AppendLine(e.Data);
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} ran longer than {timeout.TotalSeconds} s.");
        }

        // Let the asynchronous readers drain.
        process.WaitForExit();
        lock (stdout)
        {
            lock (stderr)
            {
                return new Output(process.ExitCode, stdout.ToString(), stderr.ToString());
            }
        }
    }

    /// <summary>The directory of an executable on PATH, or null.</summary>
    public static string? Find(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
