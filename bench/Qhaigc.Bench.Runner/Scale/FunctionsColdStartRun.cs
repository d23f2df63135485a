using System.Globalization;
using System.Text;

namespace Qhaigc.Bench.Runner.Scale;

/// <summary>
/// Cold start of the Functions worker under the emulated host (<c>bench/scale.sh coldstart --functions</c>): each round
/// launches the bare proxy (as <see cref="ColdStartRun"/> does) and the worker, a different one first each round. The
/// emulated host (bench/Qhaigc.Bench.FunctionsHost) is already running, as the real host is when it starts a worker,
/// and each worker start is timed from the moment before its process is started to its gRPC start-up done, its HTTP
/// server listening and the first <c>POST /v1/messages</c> answered 200 through the host's front door. One launch of
/// each, unmeasured, comes first (the development key is created, files are in the page cache, the host's own code is
/// compiled).
/// </summary>
public sealed class FunctionsColdStartRun(ScaleOptions options, Backdrop backdrop, Action<string> log)
{
    /// <summary>A worker start, its first call and its graceful stop.</summary>
    private static readonly TimeSpan LaunchTimeout = TimeSpan.FromMinutes(3);

    private readonly ColdStartRun _proxy = new(options, backdrop, log);

    public async Task<string> RunAsync()
    {
        using var host = backdrop.StartFunctionsHost("functions-host.log", options.ExtraFor(ScaleContender.Gateway));
        var warmProxy = await _proxy.LaunchAsync(ScaleContender.Proxy, "warm");
        log($"warm launch of the proxy: first answer after {warmProxy.FirstAnswerMs:0} ms");
        var warmWorker = WorkerLaunch.Parse(await host.AskAsync("warm", LaunchTimeout));
        log($"warm launch of the Functions worker: first answer after {warmWorker.FirstAnswerMs:0} ms");

        var rounds = new List<(bool ProxyFirst, ColdLaunch Proxy, WorkerLaunch Worker)>();
        for (var round = 1; round <= options.Launches; round++)
        {
            var proxyFirst = round % 2 == 1;
            ColdLaunch proxy = default;
            WorkerLaunch worker = default;
            foreach (var proxyTurn in proxyFirst ? new[] { true, false } : [false, true])
            {
                if (proxyTurn)
                {
                    proxy = await _proxy.LaunchAsync(ScaleContender.Proxy, $"r{round}");
                }
                else
                {
                    worker = WorkerLaunch.Parse(await host.AskAsync($"r{round}", LaunchTimeout));
                }
            }

            rounds.Add((proxyFirst, proxy, worker));
            log($"round {round}: proxy first answer {proxy.FirstAnswerMs:0.0} ms; worker connected {worker.ConnectedMs:0.0} ms, initialized {worker.InitializedMs:0.0} ms, " +
                $"listening {worker.ListeningMs:0.0} ms, first answer {worker.FirstAnswerMs:0.0} ms, CPU {worker.CpuMs:0} ms");
        }

        return Render(rounds);
    }

    private string Render(List<(bool ProxyFirst, ColdLaunch Proxy, WorkerLaunch Worker)> rounds)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"### Cold start under the emulated Functions host ({options.Launches} launches each, alternating)");
        text.AppendLine();
        text.AppendLine("| round | first | proxy listening ms | proxy first answer ms | proxy CPU ms (listening / first answer) | worker gRPC connected ms | worker gRPC init done ms | worker listening ms | worker first answer ms | worker CPU ms (connected / init done / listening / first answer) | worker RSS MiB | worker / proxy (first answer) |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (var i = 0; i < rounds.Count; i++)
        {
            var (proxyFirst, proxy, worker) = rounds[i];
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {i + 1} | {(proxyFirst ? "proxy" : "worker")} | {proxy.ListeningMs:0.0} | {proxy.FirstAnswerMs:0.0} | {proxy.CpuListeningMs:0} / {proxy.CpuMs:0} | " +
                $"{worker.ConnectedMs:0.0} | {worker.InitializedMs:0.0} | {worker.ListeningMs:0.0} | {worker.FirstAnswerMs:0.0} | " +
                $"{worker.CpuConnectedMs:0} / {worker.CpuInitializedMs:0} / {worker.CpuListeningMs:0} / {worker.CpuMs:0} | " +
                $"{worker.RssBytes / (1024 * 1024):0} | {worker.FirstAnswerMs / proxy.FirstAnswerMs:0.00}× |");
        }

        double Proxy(Func<ColdLaunch, double> value) => Stats.Median(rounds.Select(r => value(r.Proxy)).ToList());
        double Worker(Func<WorkerLaunch, double> value) => Stats.Median(rounds.Select(r => value(r.Worker)).ToList());

        var proxyAnswer = Proxy(static l => l.FirstAnswerMs);
        var workerAnswer = Worker(static l => l.FirstAnswerMs);
        var ratio = workerAnswer / proxyAnswer;
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| **median** | | **{Proxy(static l => l.ListeningMs):0.0}** | **{proxyAnswer:0.0}** | **{Proxy(static l => l.CpuListeningMs):0} / {Proxy(static l => l.CpuMs):0}** | " +
            $"**{Worker(static l => l.ConnectedMs):0.0}** | **{Worker(static l => l.InitializedMs):0.0}** | **{Worker(static l => l.ListeningMs):0.0}** | **{workerAnswer:0.0}** | " +
            $"**{Worker(static l => l.CpuConnectedMs):0} / {Worker(static l => l.CpuInitializedMs):0} / {Worker(static l => l.CpuListeningMs):0} / {Worker(static l => l.CpuMs):0}** | " +
            $"**{Worker(static l => l.RssBytes) / (1024 * 1024):0}** | **{ratio:0.00}×** |");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{ColdStartRun.Verdict("the Functions worker under the emulated host", workerAnswer, proxyAnswer)} Listening: worker {Worker(static l => l.ListeningMs):0} ms " +
            $"(its gRPC channel up after {Worker(static l => l.ConnectedMs):0} ms, its gRPC start-up done after {Worker(static l => l.InitializedMs):0} ms) " +
            $"against the proxy's {Proxy(static l => l.ListeningMs):0} ms. " +
            $"CPU to the first answer: worker {Worker(static l => l.CpuMs):0} ms against {Proxy(static l => l.CpuMs):0} ms " +
            $"({Worker(static l => l.CpuMs) / Proxy(static l => l.CpuMs):0.00}×). Resident at the first answer: worker " +
            $"{Worker(static l => l.RssBytes) / (1024 * 1024):0} MiB, proxy {Proxy(static l => l.RssBytes) / (1024 * 1024):0} MiB. " +
            $"The same call made again at once through the worker (outside the span): {Worker(static l => l.SecondAnswerMs):0.0} ms.");
        text.AppendLine();
        text.AppendLine("Measured: the worker process only, from its launch by the emulated host (already running) to its first answer; " +
            "the host's routing and forwarding of that call are in the span, the host's own start is not. Not measured: the real " +
            "Functions host's start, its placeholder mode (host and worker started before an app is assigned to the instance), and the platform's " +
            "instance allocation.");
        return text.ToString();
    }
}
