using System.Diagnostics;
using System.Globalization;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>
/// The worker as the host starts it: <c>worker.config.json</c>'s executable and worker path, the host's command line
/// and environment, the app folder as working directory. The worker does not exit when its gRPC stream drops, so the
/// process tree is always killed on dispose.
/// </summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    /// <summary>The host passes int.MaxValue; without it the worker's gRPC limit is 0 and its first write fails.</summary>
    private const string MaxMessageLength = "2147483647";

    private readonly Process _process;
    private readonly EventHandler _killOnExit;
    private int? _exitCode;

    private WorkerProcess(Process process)
    {
        _process = process;
        _killOnExit = (_, _) => Kill();
        AppDomain.CurrentDomain.ProcessExit += _killOnExit;
    }

    public int Id => _process.Id;

    public bool HasExited => _exitCode is not null || _process.HasExited;

    public int ExitCode => _exitCode ?? _process.ExitCode;

    /// <summary>Completes when the process exits.</summary>
    public Task Exited => _process.WaitForExitAsync();

    public static WorkerProcess Start(
        FunctionsAppOutput app, Uri grpcUri, string workerId, string requestId, IReadOnlyDictionary<string, string?> settings, EmulatorLog log)
    {
        var start = new ProcessStartInfo(app.Executable)
        {
            WorkingDirectory = app.Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(app.WorkerPath);
        foreach (var argument in HostArguments(grpcUri, workerId, requestId))
        {
            start.ArgumentList.Add(argument);
        }

        // The host hands app settings to the worker as environment variables, where ':' is spelled '__'.
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        start.Environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        // Without it FunctionLoad fails; the ASP.NET Core integration also reads host.json from this folder.
        start.Environment["FUNCTIONS_APPLICATION_DIRECTORY"] = app.Directory;
        start.Environment["FUNCTIONS_WORKER_DIRECTORY"] = app.Directory;

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => AddLine(log, "worker stdout", line.Data);
        process.ErrorDataReceived += (_, line) => AddLine(log, "worker stderr", line.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"The worker ({app.Executable} {app.WorkerPath}) did not start.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WorkerProcess(process);
    }

    /// <summary>
    /// Both spellings, as the host passes them: the worker reads the <c>--functions-*</c> ones, older workers the others.
    /// </summary>
    public static IReadOnlyList<string> HostArguments(Uri grpcUri, string workerId, string requestId) =>
    [
        "--host", grpcUri.Host,
        "--port", grpcUri.Port.ToString(CultureInfo.InvariantCulture),
        "--workerId", workerId,
        "--requestId", requestId,
        "--grpcMaxMessageLength", MaxMessageLength,
        "--functions-uri", grpcUri.ToString(),
        "--functions-worker-id", workerId,
        "--functions-request-id", requestId,
        "--functions-grpc-max-message-length", MaxMessageLength,
    ];

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= _killOnExit;
        Kill();
        if (await WaitForExitAsync(TimeSpan.FromSeconds(10)))
        {
            // Kept for callers that ask after disposal.
            _exitCode = _process.ExitCode;
        }

        _process.Dispose();
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static void AddLine(EmulatorLog log, string source, string? line)
    {
        if (line is not null)
        {
            log.Add($"{source}: {line}");
        }
    }
}
