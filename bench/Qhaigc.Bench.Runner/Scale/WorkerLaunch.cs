using System.Text.Json;

namespace Qhaigc.Bench.Runner.Scale;

/// <summary>
/// One timed start of the Functions worker under the emulated host, as bench/Qhaigc.Bench.FunctionsHost reports it:
/// milliseconds from the moment before the worker process started to its gRPC start-up done (WorkerInit, metadata and
/// every FunctionLoad answered), its own HTTP server listening and the first call answered through the host's front
/// door; the worker's CPU milliseconds at each; its resident bytes at the first answer.
/// </summary>
internal readonly record struct WorkerLaunch(
    double InitializedMs, double ListeningMs, double FirstAnswerMs, double CpuInitializedMs, double CpuListeningMs, double CpuMs, double RssBytes)
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
        return new WorkerLaunch(Number("initializedMs"), Number("listeningMs"), Number("firstAnswerMs"), Number("cpuInitializedMs"),
            Number("cpuListeningMs"), Number("cpuMs"), Number("rssBytes"));
    }
}
