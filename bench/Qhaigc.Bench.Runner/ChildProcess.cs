using System.Diagnostics;
using System.Threading.Channels;

namespace Qhaigc.Bench.Runner;

/// <summary>
/// A server the benchmark started (Azurite, the fake upstream, the gateway): output goes to a log file, and it is
/// stopped, with its children, when the benchmark ends, whichever way it ends. One started to take commands (the
/// emulated Functions host of a cold start) reads a line from standard input for each and answers with one line on
/// standard output (<see cref="AskAsync"/>); its standard error goes to the log.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Channel<string>? _answers;

    private ChildProcess(string name, Process process, StreamWriter log, bool takesCommands)
    {
        _answers = takesCommands ? Channel.CreateUnbounded<string>() : null;
        Name = name;
        _process = process;
        _log = log;
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public static ChildProcess Start(string name, string fileName, IEnumerable<string> arguments, string workingDirectory,
        string logPath, IReadOnlyDictionary<string, string>? environment = null, bool takesCommands = false)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = takesCommands,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Children get a clean slate of gateway settings: only what the benchmark sets.
        foreach (var key in start.Environment.Keys.Where(static k => k.StartsWith("Gateway__", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var log = new StreamWriter(logPath, append: false) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{name} did not start.");
        var child = new ChildProcess(name, process, log, takesCommands);
        process.OutputDataReceived += (_, e) => child.Answer(e.Data);
        process.ErrorDataReceived += (_, e) => child.Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    public ProcSample Sample() => ProcSample.Read(_process.Id);

    /// <summary>Sends one command line and returns the next line the process writes to standard output.</summary>
    public async Task<string> AskAsync(string command, TimeSpan timeout)
    {
        var answers = _answers ?? throw new InvalidOperationException($"{Name} was not started to take commands.");
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        using var timer = new CancellationTokenSource(timeout);
        try
        {
            return await answers.Reader.ReadAsync(timer.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or ChannelClosedException)
        {
            throw new InvalidOperationException($"{Name} did not answer '{command}' within {timeout.TotalSeconds} s; see its log.", exception);
        }
    }

    public void Dispose()
    {
        try
        {
            if (_answers is not null && !_process.HasExited)
            {
                // The end of its commands: it stops what it started, then exits.
                _process.StandardInput.Close();
                _process.WaitForExit(15_000);
            }

            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    private void Answer(string? line)
    {
        if (_answers is null)
        {
            Write(line);
        }
        else if (line is null)
        {
            _answers.Writer.TryComplete();
        }
        else
        {
            _answers.Writer.TryWrite(line);
        }
    }

    private void Write(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Output that arrives after the benchmark closed the log.
            }
        }
    }
}
