using System.Collections.Concurrent;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>Records what the emulated host tells an <see cref="IWorkerStartObserver"/>, in order: "step pid".</summary>
internal sealed class RecordingStartObserver : IWorkerStartObserver
{
    private readonly ConcurrentQueue<string> _steps = new();

    public IReadOnlyList<string> Steps => [.. _steps];

    public Uri? WorkerHttpUri { get; private set; }

    public void Launching() => _steps.Enqueue("launching");

    public void Connected(int processId) => _steps.Enqueue($"connected {processId}");

    public Task InitializedAsync(int processId, Uri workerHttpUri)
    {
        WorkerHttpUri = workerHttpUri;
        _steps.Enqueue($"initialized {processId}");
        return Task.CompletedTask;
    }
}
