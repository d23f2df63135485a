using System.Diagnostics;
using Qhaigc.Bench.ColdStart;
using Qhaigc.Bench.Runner;
using Qhaigc.Functions.Tests.HostEmulation;

namespace Qhaigc.Bench.FunctionsHost;

/// <summary>
/// Times one worker start under the emulated host from the moment before the worker process is started: its gRPC
/// channel up (StartStream), its gRPC start-up done (WorkerInit, metadata, every FunctionLoad answered) and its own
/// HTTP server listening, with the worker's CPU time at each (from /proc).
/// </summary>
internal sealed class WorkerStartTimer : IWorkerStartObserver
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>Started when the worker is launched; the first answered call is timed on it too.</summary>
    public Stopwatch Clock { get; } = new();

    public double ConnectedMs { get; private set; }

    public double CpuConnectedMs { get; private set; }

    public double InitializedMs { get; private set; }

    public double CpuInitializedMs { get; private set; }

    public double ListeningMs { get; private set; }

    public double CpuListeningMs { get; private set; }

    public void Launching() => Clock.Restart();

    public void Connected(int processId)
    {
        ConnectedMs = Clock.Elapsed.TotalMilliseconds;
        CpuConnectedMs = processId > 0 ? ProcSample.Read(processId).CpuSeconds * 1000 : -1;
    }

    public async Task InitializedAsync(int processId, Uri workerHttpUri)
    {
        InitializedMs = Clock.Elapsed.TotalMilliseconds;
        CpuInitializedMs = ProcSample.Read(processId).CpuSeconds * 1000;
        // Polled every millisecond here, so the emulated host finds the server listening at its first try and the first
        // call is not held back by the host's own, coarser, wait.
        await ColdStartProbe.WaitListeningAsync(workerHttpUri.Port, () => !File.Exists($"/proc/{processId}/stat"), "Functions worker", Clock, Deadline);
        ListeningMs = Clock.Elapsed.TotalMilliseconds;
        CpuListeningMs = ProcSample.Read(processId).CpuSeconds * 1000;
    }
}
