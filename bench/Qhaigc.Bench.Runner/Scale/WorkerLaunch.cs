using System.Text.Json;

namespace Qhaigc.Bench.Runner.Scale;

/// <summary>
/// One timed start of the Functions worker under the emulated host, as bench/Qhaigc.Bench.FunctionsHost reports it:
/// milliseconds from the moment before the worker process started to its gRPC channel up (StartStream), its gRPC
/// start-up done (WorkerInit, metadata and every FunctionLoad answered), its own HTTP server listening and the first call answered through the host's front
/// door; the worker's CPU milliseconds at each; its resident bytes at the first answer; and, outside the span, the same
/// call made again at once (a warm call, for comparison).
/// </summary>
internal readonly record struct WorkerLaunch(
    double ConnectedMs, double InitializedMs, double ListeningMs, double FirstAnswerMs,
    double CpuConnectedMs, double CpuInitializedMs, double CpuListeningMs, double CpuMs, double RssBytes, double SecondAnswerMs)
{
    public static WorkerLaunch Parse(string line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        if (root.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"The Functions worker's launch {root.GetProperty("label").GetString()} failed: {error.GetString()}");
        }

        double Number(string name) => root.GetProperty(name).GetDouble();
        return new WorkerLaunch(Number("connectedMs"), Number("initializedMs"), Number("listeningMs"), Number("firstAnswerMs"),
            Number("cpuConnectedMs"), Number("cpuInitializedMs"), Number("cpuListeningMs"), Number("cpuMs"), Number("rssBytes"), Number("secondAnswerMs"));
    }
}
