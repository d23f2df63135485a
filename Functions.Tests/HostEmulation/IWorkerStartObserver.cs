namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>
/// Told of a worker's start-up under the emulated host as it happens, and awaited where it is told: the cold-start
/// benchmark times the worker with it (bench/README.md#serverless-scale). The tests pass none, and the host behaves
/// the same either way.
/// </summary>
public interface IWorkerStartObserver
{
    /// <summary>
    /// Right before the worker process is started: the emulated host is already listening, as the real host is when it
    /// starts a worker.
    /// </summary>
    void Launching();

    /// <summary>The worker's StartStream arrived: its gRPC channel to the host is up (<paramref name="processId"/> is the worker's).</summary>
    void Connected(int processId);

    /// <summary>
    /// WorkerInit, the function metadata and every FunctionLoad answered (<paramref name="processId"/> is the worker's);
    /// the host waits for the returned task before it waits for the worker's own server at <paramref name="workerHttpUri"/>.
    /// </summary>
    Task InitializedAsync(int processId, Uri workerHttpUri);
}
