using System.Globalization;
using System.Text;

namespace Qhaigc.Bench.Runner.Scale;

/// <summary>
/// Cold start of the Functions worker under the emulated host (<c>bench/scale.sh coldstart --functions</c>): each round
/// launches the bare proxy (as <see cref="ColdStartRun"/> does), the gateway's worker and a bare Functions worker
/// (bench/Qhaigc.Bench.BareWorker: the same worker SDK, one function forwarding the call), a different one first each
/// round. The emulated host (bench/Qhaigc.Bench.FunctionsHost, one for each app) is already running, as the real host is
/// when it starts a worker, and each worker start is timed from the moment before its process is started to its gRPC
/// start-up done, its HTTP server listening and the first <c>POST /v1/messages</c> answered 200 through the host's
/// front door. One launch of each, unmeasured, comes first (the development key is created, files are in the page
/// cache, the host's own code is compiled).
/// </summary>
public sealed class FunctionsColdStartRun(ScaleOptions options, Backdrop backdrop, Action<string> log)
{
    /// <summary>A worker start, its first call and its graceful stop.</summary>
    private static readonly TimeSpan LaunchTimeout = TimeSpan.FromMinutes(3);

    private readonly ColdStartRun _proxy = new(options, backdrop, log);

    public async Task<string> RunAsync()
    {
        using var host = backdrop.StartFunctionsHost("functions-host.log", options.ExtraFor(ScaleContender.Gateway));
        using var bareHost = backdrop.StartFunctionsHost("bare-worker-host.log",
            new Dictionary<string, string> { ["Bench__Upstream"] = backdrop.UpstreamUrl.AbsoluteUri }, backdrop.BareWorkerDirectory);
        var warmProxy = await _proxy.LaunchAsync(ScaleContender.Proxy, "warm");
        log($"warm launch of the proxy: first answer after {warmProxy.FirstAnswerMs:0} ms");
        var warmWorker = WorkerLaunch.Parse(await host.AskAsync("warm", LaunchTimeout));
        log($"warm launch of the Functions worker: first answer after {warmWorker.FirstAnswerMs:0} ms");
        var warmBare = WorkerLaunch.Parse(await bareHost.AskAsync("warm", LaunchTimeout));
        log($"warm launch of the bare Functions worker: first answer after {warmBare.FirstAnswerMs:0} ms");

        var rounds = new List<Round>();
        for (var round = 1; round <= options.Launches; round++)
        {
            // Each contender goes first in turn.
            var order = Enumerable.Range(0, 3).Select(i => (Contender)((round - 1 + i) % 3)).ToArray();
            ColdLaunch proxy = default;
            WorkerLaunch worker = default, bare = default;
            foreach (var contender in order)
            {
                switch (contender)
                {
                    case Contender.Proxy:
                        proxy = await _proxy.LaunchAsync(ScaleContender.Proxy, $"r{round}");
                        break;
                    case Contender.Worker:
                        worker = WorkerLaunch.Parse(await host.AskAsync($"r{round}", LaunchTimeout));
                        break;
                    default:
                        bare = WorkerLaunch.Parse(await bareHost.AskAsync($"r{round}", LaunchTimeout));
                        break;
                }
            }

            rounds.Add(new Round(order[0], proxy, worker, bare));
            log($"round {round}: proxy first answer {proxy.FirstAnswerMs:0.0} ms; worker connected {worker.ConnectedMs:0.0} ms, initialized {worker.InitializedMs:0.0} ms, " +
                $"listening {worker.ListeningMs:0.0} ms, first answer {worker.FirstAnswerMs:0.0} ms, CPU {worker.CpuMs:0} ms; " +
                $"bare worker first answer {bare.FirstAnswerMs:0.0} ms, CPU {bare.CpuMs:0} ms");
        }

        return Render(rounds);
    }

    private enum Contender
    {
        Proxy,
        Worker,
        BareWorker,
    }

    private readonly record struct Round(Contender First, ColdLaunch Proxy, WorkerLaunch Worker, WorkerLaunch Bare);

    private string Render(List<Round> rounds)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"### Cold start under the emulated Functions host ({options.Launches} launches each, each contender first in turn)");
        text.AppendLine();
        text.AppendLine("| round | first | proxy listening ms | proxy first answer ms | proxy CPU ms (listening / first answer) | worker gRPC connected ms | worker gRPC init done ms | worker listening ms | worker first answer ms | worker CPU ms (connected / init done / listening / first answer) | worker RSS MiB | bare worker listening ms | bare worker first answer ms | bare worker CPU ms (first answer) | worker / proxy (first answer) | worker / bare worker (first answer) |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (var i = 0; i < rounds.Count; i++)
        {
            var (first, proxy, worker, bare) = rounds[i];
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {i + 1} | {FirstName(first)} | {proxy.ListeningMs:0.0} | {proxy.FirstAnswerMs:0.0} | {proxy.CpuListeningMs:0} / {proxy.CpuMs:0} | " +
                $"{worker.ConnectedMs:0.0} | {worker.InitializedMs:0.0} | {worker.ListeningMs:0.0} | {worker.FirstAnswerMs:0.0} | " +
                $"{worker.CpuConnectedMs:0} / {worker.CpuInitializedMs:0} / {worker.CpuListeningMs:0} / {worker.CpuMs:0} | " +
                $"{worker.RssBytes / (1024 * 1024):0} | {bare.ListeningMs:0.0} | {bare.FirstAnswerMs:0.0} | {bare.CpuMs:0} | " +
                $"{worker.FirstAnswerMs / proxy.FirstAnswerMs:0.00}× | {worker.FirstAnswerMs / bare.FirstAnswerMs:0.00}× |");
        }

        double Proxy(Func<ColdLaunch, double> value) => Stats.Median(rounds.Select(r => value(r.Proxy)).ToList());
        double Worker(Func<WorkerLaunch, double> value) => Stats.Median(rounds.Select(r => value(r.Worker)).ToList());
        double Bare(Func<WorkerLaunch, double> value) => Stats.Median(rounds.Select(r => value(r.Bare)).ToList());

        var proxyAnswer = Proxy(static l => l.FirstAnswerMs);
        var workerAnswer = Worker(static l => l.FirstAnswerMs);
        var ratio = workerAnswer / proxyAnswer;
        var bareAnswer = Bare(static l => l.FirstAnswerMs);
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| **median** | | **{Proxy(static l => l.ListeningMs):0.0}** | **{proxyAnswer:0.0}** | **{Proxy(static l => l.CpuListeningMs):0} / {Proxy(static l => l.CpuMs):0}** | " +
            $"**{Worker(static l => l.ConnectedMs):0.0}** | **{Worker(static l => l.InitializedMs):0.0}** | **{Worker(static l => l.ListeningMs):0.0}** | **{workerAnswer:0.0}** | " +
            $"**{Worker(static l => l.CpuConnectedMs):0} / {Worker(static l => l.CpuInitializedMs):0} / {Worker(static l => l.CpuListeningMs):0} / {Worker(static l => l.CpuMs):0}** | " +
            $"**{Worker(static l => l.RssBytes) / (1024 * 1024):0}** | **{Bare(static l => l.ListeningMs):0.0}** | **{bareAnswer:0.0}** | **{Bare(static l => l.CpuMs):0}** | " +
            $"**{ratio:0.00}×** | **{workerAnswer / bareAnswer:0.00}×** |");
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
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Against a bare Functions worker (the same worker SDK and ASP.NET Core integration, one function forwarding the call as it is): " +
            $"the gateway's worker answers first after {workerAnswer:0} ms against {bareAnswer:0} ms (**{workerAnswer / bareAnswer:0.00}×**), " +
            $"CPU {Worker(static l => l.CpuMs):0} against {Bare(static l => l.CpuMs):0} ms ({Worker(static l => l.CpuMs) / Bare(static l => l.CpuMs):0.00}×), " +
            $"resident {Worker(static l => l.RssBytes) / (1024 * 1024):0} against {Bare(static l => l.RssBytes) / (1024 * 1024):0} MiB; " +
            $"the bare worker against the bare proxy: {bareAnswer / proxyAnswer:0.00}×, the floor the Functions worker SDK sets.");
        text.AppendLine();
        text.AppendLine("Measured: the worker process only, from its launch by the emulated host (already running) to its first answer; " +
            "the host's routing and forwarding of that call are in the span, the host's own start is not. Not measured: the real " +
            "Functions host's start, its placeholder mode (host and worker started before an app is assigned to the instance), and the platform's " +
            "instance allocation.");
        return text.ToString();
    }

    private static string FirstName(Contender contender) => contender switch
    {
        Contender.Proxy => "proxy",
        Contender.Worker => "worker",
        _ => "bare worker",
    };
}
