using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Qhaigc.Bench.Runner.Scale;

/// <summary>
/// CPU per streamed event at saturation: wrk drives 50- and 200-event streams closed-loop (16 connections) through the
/// bare proxy, the gateway with Azurite and the gateway with a usage store that costs no CPU here, each for
/// <see cref="ScaleOptions.Seconds"/>, in rounds that take the three in turn (a different one first each round). The
/// process's CPU time (/proc) over the load, and for a gateway until its usage queue is empty, divided by the streams
/// and events wrk completed. Azurite's CPU is reported apart. The per-event cost without the per-stream one is the
/// difference of the two stream lengths: (CPU per 200-event stream − CPU per 50-event stream) / 150.
/// </summary>
public sealed class StreamCpuRun(ScaleOptions options, Backdrop backdrop, Action<string> log)
{
    private static readonly int[] Lengths = [50, 200];
    private static readonly ScaleContender[] Contenders = [ScaleContender.Proxy, ScaleContender.Gateway, ScaleContender.GatewayMemoryStore];

    /// <summary>How long a measurement waits for the machine to go quiet: longer than Azurite takes for a run's records.</summary>
    private static readonly TimeSpan MaxQuietWait = TimeSpan.FromMinutes(3);

    public async Task<string> RunAsync()
    {
        var wrk = new Wrk(Path.Combine(options.RepositoryRoot, "bench", "wrk"));
        var bodies = Lengths.ToDictionary(static n => n, n => Body(n));
        var running = new Dictionary<ScaleContender, (ChildProcess Process, Target Target)>();
        using var http = new HttpClient();
        try
        {
            foreach (var contender in Contenders)
            {
                var port = Ports.Free();
                var process = backdrop.Launch(contender, port, $"stream-cpu-{(int)contender}.log", options.ExtraFor(contender));
                running[contender] = (process, new Target(ScaleContenderNames.Of(contender), new Uri($"http://127.0.0.1:{port}/"),
                    ["x-api-key: " + Servers.GatewayKey, "anthropic-version: 2023-06-01"]));
                await Ports.WaitAnswersAsync(http, new Uri($"http://127.0.0.1:{port}/v1/messages"),
                    ["x-api-key: " + Servers.GatewayKey, "anthropic-version: 2023-06-01"],
                    new { model = "bench", max_tokens = 16, messages = new[] { new { role = "user", content = "ready?" } } }, TimeSpan.FromSeconds(60));
            }

            log("warming up every contender until its code is compiled at its final tier (unmeasured)");
            var warmUps = new Dictionary<ScaleContender, WarmUp>();
            foreach (var contender in Contenders)
            {
                warmUps[contender] = await WarmUpAsync(wrk, http, running[contender].Target, Lengths.Select(length => bodies[length]).ToArray());
                log($"{running[contender].Target.Name}: warm after {warmUps[contender].Seconds} s, {warmUps[contender].Compiled} methods compiled meanwhile");
            }

            var results = new List<Measured>();
            for (var round = 1; round <= options.Rounds; round++)
            {
                var order = Contenders.Skip((round - 1) % Contenders.Length).Concat(Contenders.Take((round - 1) % Contenders.Length)).ToArray();
                foreach (var length in Lengths)
                {
                    foreach (var contender in order)
                    {
                        var (process, target) = running[contender];
                        await QuietAsync([backdrop.Azurite, backdrop.Upstream, .. running.Values.Select(static r => r.Process)], log);
                        var before = (Self: process.Sample(), Azurite: backdrop.Azurite.Sample(), Upstream: backdrop.Upstream.Sample());
                        var allocatedBefore = await AllocatedAsync(http, target);
                        var numbers = await wrk.SaturateAsync(target, "v1/messages", bodies[length], 2, 16, TimeSpan.FromSeconds(options.Seconds));
                        await DrainAsync(http, target);
                        var allocated = await AllocatedAsync(http, target) - allocatedBefore;
                        var after = (Self: process.Sample(), Azurite: backdrop.Azurite.Sample(), Upstream: backdrop.Upstream.Sample());
                        var streams = numbers.Get("requests");
                        if (numbers.Get("non2xx") > 0 || numbers.Get("socketErrors") > 0)
                        {
                            throw new InvalidOperationException($"{target.Name}: {numbers.Get("non2xx")} non-2xx answers, {numbers.Get("socketErrors")} socket errors.");
                        }

                        var measured = new Measured(round, length, contender, streams, streams / (numbers.Get("durationUs") / 1e6),
                            (after.Self.CpuSeconds - before.Self.CpuSeconds) * 1e6 / streams,
                            (after.Azurite.CpuSeconds - before.Azurite.CpuSeconds) * 1e6 / streams,
                            (after.Upstream.CpuSeconds - before.Upstream.CpuSeconds) * 1e6 / streams,
                            allocated / streams);
                        results.Add(measured);
                        log($"round {round}, {length} events, {target.Name}: {measured.StreamsPerSecond:0} streams/s, " +
                            $"{measured.CpuUsPerStream:0} µs CPU per stream ({measured.CpuUsPerStream / length:0.00} per event)");
                    }
                }
            }

            return Render(results, warmUps);
        }
        finally
        {
            foreach (var (process, _) in running.Values)
            {
                process.Dispose();
            }
        }

        string Body(int events)
        {
            var path = Path.Combine(backdrop.WorkDirectory, $"stream-e{events}.json");
            File.WriteAllText(path, $$"""{"model":"bench-e{{events}}","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"Hello, Claude"}]}""");
            return path;
        }
    }

    /// <summary>
    /// Waits, at most <see cref="MaxQuietWait"/>, until Azurite, the fake upstream and every contender are idle (each
    /// under 5% of a core over half a second): after the gateway that writes its usage into Azurite was measured, Azurite
    /// stays busy with what it took in for up to a minute more, and on two shared cores that work would slow the next
    /// contender and be counted in its CPU per stream.
    /// </summary>
    private static async Task QuietAsync(IReadOnlyList<ChildProcess> processes, Action<string> log)
    {
        var started = DateTime.UtcNow;
        while (DateTime.UtcNow - started < MaxQuietWait)
        {
            var before = processes.Select(static p => p.Sample().CpuSeconds).ToArray();
            await Task.Delay(500);
            var busiest = processes.Select((p, i) => (p.Sample().CpuSeconds - before[i]) / 0.5).Max();
            if (busiest < 0.05)
            {
                if (DateTime.UtcNow - started > TimeSpan.FromSeconds(5))
                {
                    log($"quiet after {(DateTime.UtcNow - started).TotalSeconds:0} s");
                }

                return;
            }
        }

        log($"the machine did not go quiet within {MaxQuietWait.TotalSeconds:0} s; measuring anyway");
    }

    /// <summary>How long a contender was warmed up, and how many methods the JIT compiled meanwhile.</summary>
    private sealed record WarmUp(int Seconds, double Compiled);

    /// <summary>
    /// Saturates a contender with each stream length in turn, <see cref="WarmUpWindow"/> at a time, until one whole pass
    /// has the JIT compile at most <see cref="SettledCompilations"/> methods (at most <see cref="MaxWarmUp"/>). The runtime
    /// compiles a method several times on its way to its optimized tier (quick code first, then code that records what
    /// the calls do, then the final one); under a saturating load on two cores the background compiler gets little time,
    /// so a fixed few seconds of warm-up left part of a contender's code unoptimized when measuring began: in a `perf`
    /// profile after 8 s of load, 5% of the gateway's CPU was still in code at the instrumented tier, none after 30 s. A
    /// contender with more code to compile (the gateway) was measured warmer or colder than another by chance.
    /// </summary>
    private static async Task<WarmUp> WarmUpAsync(Wrk wrk, HttpClient http, Target target, IReadOnlyList<string> bodies)
    {
        var started = DateTime.UtcNow;
        var first = await CompiledAsync(http, target);
        var before = first;
        while (true)
        {
            foreach (var body in bodies)
            {
                await wrk.SaturateAsync(target, "v1/messages", body, 2, 16, WarmUpWindow);
                await DrainAsync(http, target);
            }

            var after = await CompiledAsync(http, target);
            var elapsed = DateTime.UtcNow - started;
            if (after - before <= SettledCompilations || elapsed >= MaxWarmUp)
            {
                return new WarmUp((int)Math.Round(elapsed.TotalSeconds), after - first);
            }

            before = after;
        }
    }

    private static readonly TimeSpan WarmUpWindow = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan MaxWarmUp = TimeSpan.FromSeconds(60);
    private const int SettledCompilations = 20;

    private static async Task<double> CompiledAsync(HttpClient http, Target target) =>
        (await RuntimeAsync(http, target)).TryGetValue("jitCompiledMethods", out var count) ? count : double.NaN;

    /// <summary>Waits until a gateway's usage queue is empty, so the run's CPU includes writing its records.</summary>
    private static async Task DrainAsync(HttpClient http, Target target)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && (await RuntimeAsync(http, target)).TryGetValue("usageOutstanding", out var outstanding) && outstanding > 0)
        {
            await Task.Delay(50);
        }
    }

    private static async Task<double> AllocatedAsync(HttpClient http, Target target) =>
        (await RuntimeAsync(http, target)).TryGetValue("allocatedBytes", out var bytes) ? bytes : double.NaN;

    public static async Task<Dictionary<string, double>> RuntimeAsync(HttpClient http, Target target, bool live = false)
    {
        using var json = JsonDocument.Parse(await http.GetStringAsync(target.Url(live ? "_bench/runtime?live=true" : "_bench/runtime")));
        return json.RootElement.EnumerateObject().Where(static p => p.Value.ValueKind == JsonValueKind.Number)
            .ToDictionary(static p => p.Name, static p => p.Value.GetDouble(), StringComparer.Ordinal);
    }

    private string Render(List<Measured> results, Dictionary<ScaleContender, WarmUp> warmUps)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"### CPU per streamed event at saturation (wrk, 16 connections, {options.Seconds} s each, {options.Rounds} rounds)");
        text.AppendLine();
        text.AppendLine("Warmed up (unmeasured) until a pass of both lengths compiled at most " +
            $"{SettledCompilations.ToString(CultureInfo.InvariantCulture)} methods: " +
            string.Join(", ", warmUps.Select(static w => string.Create(CultureInfo.InvariantCulture,
                $"{ScaleContenderNames.Of(w.Key)} {w.Value.Seconds} s ({w.Value.Compiled:0} methods compiled)"))) + ".");
        text.AppendLine();
        text.AppendLine("| round | events | contender | streams/s | CPU µs per stream | CPU µs per event | Azurite CPU µs per stream | fake upstream CPU µs per stream | allocated B per event |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var m in results)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {m.Round} | {m.Events} | {ScaleContenderNames.Of(m.Contender)} | {m.StreamsPerSecond:0} | {m.CpuUsPerStream:0} | {m.CpuUsPerStream / m.Events:0.00} | " +
                $"{m.AzuriteUsPerStream:0} | {m.UpstreamUsPerStream:0} | {(double.IsNaN(m.AllocatedPerStream) ? "—" : (m.AllocatedPerStream / m.Events).ToString("0", CultureInfo.InvariantCulture))} |");
        }

        text.AppendLine();
        text.AppendLine("Medians of the rounds, and the ratio to the bare proxy:");
        text.AppendLine();
        text.AppendLine("| contender | CPU µs per 50-event stream | per event | CPU µs per 200-event stream | per event | marginal CPU µs per event (200 − 50) / 150 | ratio per event (50 / 200 / marginal) |");
        text.AppendLine("|---|---|---|---|---|---|---|");
        double Median(ScaleContender contender, int events) =>
            Stats.Median(results.Where(m => m.Contender == contender && m.Events == events).Select(static m => m.CpuUsPerStream).ToList());

        double MarginalMedian(ScaleContender contender) => Stats.Median(results.Where(m => m.Contender == contender && m.Events == 200)
            .Select(m => (m.CpuUsPerStream - results.Single(o => o.Round == m.Round && o.Contender == contender && o.Events == 50).CpuUsPerStream) / 150).ToList());

        var proxy = (Short: Median(ScaleContender.Proxy, 50) / 50, Long: Median(ScaleContender.Proxy, 200) / 200, Marginal: MarginalMedian(ScaleContender.Proxy));
        foreach (var contender in Contenders)
        {
            var shortStream = Median(contender, 50);
            var longStream = Median(contender, 200);
            var marginal = MarginalMedian(contender);
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {ScaleContenderNames.Of(contender)} | {shortStream:0} | {shortStream / 50:0.00} | {longStream:0} | {longStream / 200:0.00} | {marginal:0.00} | " +
                $"{shortStream / 50 / proxy.Short:0.00}× / {longStream / 200 / proxy.Long:0.00}× / {marginal / proxy.Marginal:0.00}× |");
        }

        return text.ToString();
    }

    private readonly record struct Measured(
        int Round, int Events, ScaleContender Contender, double Streams, double StreamsPerSecond, double CpuUsPerStream,
        double AzuriteUsPerStream, double UpstreamUsPerStream, double AllocatedPerStream);
}
