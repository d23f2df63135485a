using System.Diagnostics;
using System.Globalization;
using System.Text;
using Qhaigc.Bench.ColdStart;

namespace Qhaigc.Bench.Runner.Scale;

/// <summary>
/// Cold start, launch to first answered call: the gateway (standalone, Release, Azurite running, the fake upstream)
/// and the bare proxy are launched in alternation, a different one first each round. Each launch is timed from the
/// moment before the process is started to (a) its port accepting a connection ("listening") and (b) the first
/// <c>POST /v1/messages</c> answered 200 (a new connection, asked again at once while the answer is not 200:
/// <see cref="ColdStartProbe"/>). The process's CPU time and resident memory at that moment are read from /proc. One
/// launch of each, unmeasured, comes first (the development key is created, files are in the page cache).
/// </summary>
public sealed class ColdStartRun(ScaleOptions options, Backdrop backdrop, Action<string> log)
{
    public async Task<string> RunAsync()
    {
        ScaleContender[] contenders = [ScaleContender.Proxy, ScaleContender.Gateway];
        foreach (var contender in contenders)
        {
            var warm = await LaunchAsync(contender, "warm");
            log($"warm launch of the {ScaleContenderNames.Of(contender)}: first answer after {warm.FirstAnswerMs:0} ms");
        }

        var launches = new List<(int Round, ScaleContender Contender, ColdLaunch Launch)>();
        for (var round = 1; round <= options.Launches; round++)
        {
            var order = round % 2 == 1 ? contenders : contenders.Reverse().ToArray();
            foreach (var contender in order)
            {
                var launch = await LaunchAsync(contender, $"r{round}");
                launches.Add((round, contender, launch));
                log($"round {round}: {ScaleContenderNames.Of(contender)} listening {launch.ListeningMs:0.0} ms, " +
                    $"first answer {launch.FirstAnswerMs:0.0} ms, CPU {launch.CpuListeningMs:0} ms listening, {launch.CpuMs:0} ms at the first answer");
            }
        }

        return Render(launches);
    }

    /// <summary>One launch of <paramref name="contender"/>, timed; the process is stopped before this returns.</summary>
    internal async Task<ColdLaunch> LaunchAsync(ScaleContender contender, string label)
    {
        var port = Ports.Free();
        var clock = Stopwatch.StartNew();
        using var process = backdrop.Launch(contender, port, $"coldstart-{ScaleContenderNames.Of(contender).Split(' ')[0]}-{label}.log", options.ExtraFor(contender));
        var deadline = TimeSpan.FromSeconds(60);
        await ColdStartProbe.WaitListeningAsync(port, () => process.HasExited, process.Name, clock, deadline);
        var listening = clock.Elapsed.TotalMilliseconds;
        var cpuListening = process.Sample().CpuSeconds * 1000;
        await ColdStartProbe.WaitFirstAnswerAsync(new Uri($"http://127.0.0.1:{port}/v1/messages"), Servers.GatewayKey, process.Name, clock, deadline);
        var answered = clock.Elapsed.TotalMilliseconds;
        var sample = process.Sample();
        return new ColdLaunch(listening, answered, cpuListening, sample.CpuSeconds * 1000, sample.RssBytes);
    }

    private string Render(List<(int Round, ScaleContender Contender, ColdLaunch Launch)> launches)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"### Cold start: launch to first answered call ({options.Launches} launches each, alternating)");
        text.AppendLine();
        text.AppendLine("| round | first | proxy listening ms | proxy first answer ms | proxy CPU ms (listening / first answer) | gateway listening ms | gateway first answer ms | gateway CPU ms (listening / first answer) | gateway / proxy (first answer) |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var round in launches.GroupBy(static l => l.Round))
        {
            var proxy = round.Single(static l => l.Contender == ScaleContender.Proxy).Launch;
            var gateway = round.Single(static l => l.Contender == ScaleContender.Gateway).Launch;
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {round.Key} | {ScaleContenderNames.Of(round.First().Contender)} | {proxy.ListeningMs:0.0} | {proxy.FirstAnswerMs:0.0} | {proxy.CpuListeningMs:0} / {proxy.CpuMs:0} | " +
                $"{gateway.ListeningMs:0.0} | {gateway.FirstAnswerMs:0.0} | {gateway.CpuListeningMs:0} / {gateway.CpuMs:0} | {gateway.FirstAnswerMs / proxy.FirstAnswerMs:0.00}× |");
        }

        double Median(ScaleContender contender, Func<ColdLaunch, double> value) =>
            Stats.Median(launches.Where(l => l.Contender == contender).Select(l => value(l.Launch)).ToList());

        var proxyAnswer = Median(ScaleContender.Proxy, static l => l.FirstAnswerMs);
        var gatewayAnswer = Median(ScaleContender.Gateway, static l => l.FirstAnswerMs);
        var proxyListening = Median(ScaleContender.Proxy, static l => l.ListeningMs);
        var gatewayListening = Median(ScaleContender.Gateway, static l => l.ListeningMs);
        var proxyCpu = Median(ScaleContender.Proxy, static l => l.CpuMs);
        var gatewayCpu = Median(ScaleContender.Gateway, static l => l.CpuMs);
        var proxyCpuListening = Median(ScaleContender.Proxy, static l => l.CpuListeningMs);
        var gatewayCpuListening = Median(ScaleContender.Gateway, static l => l.CpuListeningMs);
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| **median** | | **{proxyListening:0.0}** | **{proxyAnswer:0.0}** | **{proxyCpuListening:0} / {proxyCpu:0}** | **{gatewayListening:0.0}** | **{gatewayAnswer:0.0}** | " +
            $"**{gatewayCpuListening:0} / {gatewayCpu:0}** | **{gatewayAnswer / proxyAnswer:0.00}×** |");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{Verdict("gateway", gatewayAnswer, proxyAnswer)} Listening: {gatewayListening:0} ms against {proxyListening:0} ms " +
            $"({gatewayListening / proxyListening:0.00}×). CPU to the first answer: {gatewayCpu:0} ms against {proxyCpu:0} ms " +
            $"({gatewayCpu / proxyCpu:0.00}×; {gatewayCpuListening:0} ms against {proxyCpuListening:0} ms of it before listening). Resident at the first answer: gateway " +
            $"{Median(ScaleContender.Gateway, static l => l.RssBytes) / (1024 * 1024):0} MiB, proxy {Median(ScaleContender.Proxy, static l => l.RssBytes) / (1024 * 1024):0} MiB.");
        return text.ToString();
    }

    /// <summary>The target's sentence, the same for every cold start: launch to first answered call within 1.15× of the bare proxy's.</summary>
    internal static string Verdict(string contender, double answerMs, double proxyAnswerMs)
    {
        var ratio = answerMs / proxyAnswerMs;
        return string.Create(CultureInfo.InvariantCulture,
            $"Launch to first answered call: {contender} {answerMs:0} ms, bare proxy {proxyAnswerMs:0} ms: **{ratio:0.00}×** (target ≤ 1.15×: {(ratio <= 1.15 ? "met" : "not met")}).");
    }
}
