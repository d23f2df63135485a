using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Qhaigc.Bench.Runner.Scale;

/// <summary>
/// Thousands of concurrent streams paced like a model on one process: the bare proxy, then the gateway (with
/// Azurite), each a fresh process, each taking <see cref="ScaleOptions.Streams"/> streams opened evenly over
/// <see cref="ScaleOptions.RampSeconds"/>, every stream <see cref="ScaleOptions.EventsPerSecond"/> events a second for
/// <see cref="ScaleOptions.StreamSeconds"/>. The load client is this process (HttpClient, one connection per stream).
/// Reported: every stream complete and exact (bytes and events equal to the fake upstream's own answer), first-byte
/// p50/p99, event lateness p50/p99 behind the upstream's schedule, managed heap (live, after a forced collection) and
/// resident memory at the plateau less idle per open stream, the thread pool's queue and threads sampled every second,
/// CPU per event.
/// </summary>
public sealed class PacedStreamsRun(ScaleOptions options, Backdrop backdrop, Action<string> log)
{
    public async Task<string> RunAsync()
    {
        var gapMs = 1000.0 / options.EventsPerSecond;
        var events = Math.Max(5, options.EventsPerSecond * options.StreamSeconds);
        var model = $"bench-e{events}-g{(int)Math.Round(gapMs)}-d0";
        using var reference = new HttpClient();
        var expected = await PacedStreamClient.ReadWholeAsync(reference, new Uri(backdrop.UpstreamUrl, "v1/messages"), $"bench-e{events}-g0-d0");
        var expectedEvents = CountEvents(expected);
        log($"{options.Streams} streams of {events} events, {gapMs:0} ms apart ({expected.Length} bytes, {expectedEvents} events each)");

        var sections = new List<Outcome>();
        foreach (var contender in new[] { ScaleContender.Proxy, ScaleContender.Gateway })
        {
            sections.Add(await RunOneAsync(contender, model, gapMs, expected.Length, expectedEvents));
        }

        return Render(sections, events, gapMs, expected.Length);
    }

    private async Task<Outcome> RunOneAsync(ScaleContender contender, string model, double gapMs, long expectedBytes, long expectedEvents)
    {
        var port = Ports.Free();
        using var process = backdrop.Launch(contender, port, $"streams-{(int)contender}.log", options.ExtraFor(contender));
        var baseUrl = new Uri($"http://127.0.0.1:{port}/");
        var target = new Target(ScaleContenderNames.Of(contender), baseUrl, []);
        using var control = new HttpClient();
        await Ports.WaitAnswersAsync(control, new Uri(baseUrl, "v1/messages"), ["x-api-key: " + Servers.GatewayKey, "anthropic-version: 2023-06-01"],
            new { model = "bench", max_tokens = 16, messages = new[] { new { role = "user", content = "ready?" } } }, TimeSpan.FromSeconds(60));
        // A few short streams so the first of the thousands does not pay the JIT.
        var warmBody = Encoding.UTF8.GetBytes("""{"model":"bench-e20-g1","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"Hello"}]}""");
        using (var warmClient = NewClient())
        {
            var throwaway = new LatenessHistogram();
            await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => PacedStreamClient.RunAsync(warmClient, new Uri(baseUrl, "v1/messages"), warmBody, 1, throwaway, static () => { })));
        }

        await Task.Delay(1000);
        var idle = await StreamCpuRun.RuntimeAsync(control, target, live: true);
        var idleSample = process.Sample();
        log($"{target.Name}: idle, live heap {idle["liveHeapBytes"] / (1024 * 1024):0.0} MiB, resident {idleSample.RssBytes / (1024 * 1024)} MiB");

        var body = Encoding.UTF8.GetBytes($$"""{"model":"{{model}}","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"Hello, Claude"}]}""");
        var lateness = new LatenessHistogram();
        var open = 0;
        var pool = new List<Dictionary<string, double>>();
        using var client = NewClient();
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var upstreamBefore = backdrop.Upstream.Sample();
        var cpuBefore = process.Sample();
        var sampler = SampleThreadPoolAsync(control, target, pool, stop.Token);

        var tasks = new Task<StreamOutcome>[options.Streams];
        var url = new Uri(baseUrl, "v1/messages");
        for (var i = 0; i < tasks.Length; i++)
        {
            var due = TimeSpan.FromSeconds(options.RampSeconds * (double)i / tasks.Length);
            if (due > clock.Elapsed + TimeSpan.FromMilliseconds(2))
            {
                await Task.Delay(due - clock.Elapsed);
            }

            tasks[i] = Guarded(PacedStreamClient.RunAsync(client, url, body, gapMs, lateness, () => Interlocked.Increment(ref open)));
        }

        // The plateau: every stream opened, none near its end.
        var plateauAt = TimeSpan.FromSeconds(options.RampSeconds + Math.Max(1, (options.StreamSeconds - options.RampSeconds) / 3.0));
        if (plateauAt > clock.Elapsed)
        {
            await Task.Delay(plateauAt - clock.Elapsed);
        }

        var openAtPlateau = Volatile.Read(ref open) - tasks.Count(static t => t.IsCompleted);
        var plateau = await StreamCpuRun.RuntimeAsync(control, target, live: true);
        var plateauSample = process.Sample();
        log($"{target.Name}: plateau at {clock.Elapsed.TotalSeconds:0} s with {openAtPlateau} streams open, live heap " +
            $"{plateau["liveHeapBytes"] / (1024 * 1024):0.0} MiB, resident {plateauSample.RssBytes / (1024 * 1024)} MiB");

        var outcomes = await Task.WhenAll(tasks);
        var elapsed = clock.Elapsed;
        var cpuAfter = process.Sample();
        var upstreamAfter = backdrop.Upstream.Sample();
        await stop.CancelAsync();
        await sampler;

        var exact = outcomes.Count(o => o.Failure is null && o.Bytes == expectedBytes && o.Events == expectedEvents);
        var failures = outcomes.Where(static o => o.Failure is not null).GroupBy(static o => o.Failure!).Select(static g => $"{g.Count()}× {g.Key}").ToList();
        var short_ = outcomes.Count(o => o.Failure is null && (o.Bytes != expectedBytes || o.Events != expectedEvents));
        var firstBytes = outcomes.Where(static o => o.Failure is null).Select(static o => o.FirstByteMs).ToList();
        var totalEvents = outcomes.Sum(static o => o.Events);
        log($"{target.Name}: {exact}/{outcomes.Length} exact, {short_} differ, {failures.Count} kinds of failure, {elapsed.TotalSeconds:0} s");
        return new Outcome(
            target.Name, outcomes.Length, exact, short_, string.Join("; ", failures),
            Stats.Percentile(firstBytes, 50), Stats.Percentile(firstBytes, 99), lateness.Percentile(50), lateness.Percentile(99), lateness.Percentile(99.9),
            openAtPlateau, idle["liveHeapBytes"], plateau["liveHeapBytes"], idleSample.RssBytes, plateauSample.RssBytes, plateauSample.PeakRssBytes,
            (cpuAfter.CpuSeconds - cpuBefore.CpuSeconds) * 1e6 / Math.Max(1, totalEvents),
            (upstreamAfter.CpuSeconds - upstreamBefore.CpuSeconds) * 1e6 / Math.Max(1, totalEvents),
            (cpuAfter.CpuSeconds - cpuBefore.CpuSeconds) / elapsed.TotalSeconds,
            pool);
    }

    private static async Task<StreamOutcome> Guarded(Task<StreamOutcome> stream)
    {
        try
        {
            return await stream;
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or TaskCanceledException)
        {
            return new StreamOutcome(0, 0, double.NaN, exception.GetType().Name + ": " + (exception.InnerException?.Message ?? exception.Message));
        }
    }

    /// <summary>One connection per stream, no limit on connections, nothing pooled away during a stream.</summary>
    private static HttpClient NewClient() => new(new SocketsHttpHandler
    {
        UseProxy = false,
        MaxConnectionsPerServer = int.MaxValue,
        ConnectTimeout = TimeSpan.FromSeconds(30),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private static async Task SampleThreadPoolAsync(HttpClient control, Target target, List<Dictionary<string, double>> samples, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var sample = await StreamCpuRun.RuntimeAsync(control, target);
                sample["at"] = Environment.TickCount64;
                samples.Add(sample);
                await Task.Delay(1000, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static long CountEvents(byte[] answer)
    {
        long events = 0;
        for (var i = 1; i < answer.Length; i++)
        {
            if (answer[i] == (byte)'\n' && answer[i - 1] == (byte)'\n' && (i < 2 || answer[i - 2] != (byte)'\n'))
            {
                events++;
            }
        }

        return events;
    }

    private string Render(List<Outcome> outcomes, int events, double gapMs, long bytes)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"### {options.Streams:N0} concurrent paced streams ({events} events each, {gapMs:0} ms apart, {options.StreamSeconds} s; opened over {options.RampSeconds} s)");
        text.AppendLine();
        text.AppendLine("| | streams | complete and exact | first byte p50 / p99 ms | event lateness p50 / p99 / p99.9 ms | open at plateau | live heap idle → plateau MiB | per open stream (heap) | resident idle → plateau MiB | per open stream (resident) | CPU µs per event | CPU cores | fake upstream CPU µs per event |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var o in outcomes)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {o.Name} | {o.Streams} | {o.Exact}{(o.Short > 0 ? $" ({o.Short} differ)" : "")}{(o.Failures.Length > 0 ? $" (failed: {o.Failures})" : "")} | " +
                $"{o.FirstByteP50:0.0} / {o.FirstByteP99:0.0} | {o.LatenessP50:0.0} / {o.LatenessP99:0.0} / {o.LatenessP999:0.0} | {o.OpenAtPlateau} | " +
                $"{o.IdleHeap / 1048576:0.0} → {o.PlateauHeap / 1048576:0.0} | {(o.PlateauHeap - o.IdleHeap) / Math.Max(1, o.OpenAtPlateau) / 1024:0.0} KB | " +
                $"{o.IdleRss / 1048576:0} → {o.PlateauRss / 1048576:0} (peak {o.PeakRss / 1048576:0}) | {(o.PlateauRss - o.IdleRss) / Math.Max(1, o.OpenAtPlateau) / 1024:0.0} KB | " +
                $"{o.CpuUsPerEvent:0.00} | {o.CpuCores:0.00} | {o.UpstreamUsPerEvent:0.00} |");
        }

        text.AppendLine();
        text.AppendLine("The thread pool, sampled every second (the runtime's own counters):");
        text.AppendLine();
        text.AppendLine("| | threads min / max | queued work items p50 / max | seconds with a queue over 100 | completed work items per second |");
        text.AppendLine("|---|---|---|---|---|");
        foreach (var o in outcomes)
        {
            var threads = o.Pool.Select(static s => s["threadPoolThreads"]).ToList();
            var queue = o.Pool.Select(static s => s["threadPoolQueue"]).ToList();
            var completed = o.Pool.Count > 1
                ? (o.Pool[^1]["threadPoolCompleted"] - o.Pool[0]["threadPoolCompleted"]) / ((o.Pool[^1]["at"] - o.Pool[0]["at"]) / 1000)
                : double.NaN;
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {o.Name} | {threads.DefaultIfEmpty().Min():0} / {threads.DefaultIfEmpty().Max():0} | {Stats.Median(queue):0} / {queue.DefaultIfEmpty().Max():0} | " +
                $"{queue.Count(static q => q > 100)} of {queue.Count} | {completed:0} |");
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Each stream's answer is {bytes} bytes; exact means those bytes and that many events, through each contender.");
        return text.ToString();
    }

    private sealed record Outcome(
        string Name, int Streams, int Exact, int Short, string Failures, double FirstByteP50, double FirstByteP99, double LatenessP50,
        double LatenessP99, double LatenessP999, int OpenAtPlateau, double IdleHeap, double PlateauHeap, double IdleRss, double PlateauRss, double PeakRss,
        double CpuUsPerEvent, double UpstreamUsPerEvent, double CpuCores, List<Dictionary<string, double>> Pool);
}
