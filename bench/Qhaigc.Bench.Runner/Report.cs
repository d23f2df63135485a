using System.Globalization;
using System.Text;

namespace Qhaigc.Bench.Runner;

/// <summary>Renders the results as Markdown tables: direct, gateway, added (gateway − direct) and the ratio.</summary>
public sealed class Report(Dictionary<string, Numbers> results, bool chatAvailable, int streamEvents)
{
    private readonly StringBuilder _text = new();

    public string Render(IReadOnlyList<string> environment)
    {
        Line("# Gateway overhead benchmark");
        Line();
        foreach (var line in environment)
        {
            Line("- " + line);
        }

        Line();
        NonStreaming("Non-streaming `POST /v1/messages`", "messages", [200, 1000]);
        Streaming($"Streaming `POST /v1/messages` ({streamEvents} events per answer)", "stream");
        if (chatAvailable)
        {
            NonStreaming("Non-streaming `POST /v1/chat/completions` (OpenAI format, translated to and from Claude's)", "chat", [200]);
            Streaming($"Streaming `POST /v1/chat/completions` ({streamEvents} chunks per answer)", "chat-stream");
        }
        else
        {
            Line("`/v1/chat/completions` is not served by this build of the gateway: no translation rows.");
            Line();
        }

        Reference();
        OverheadHeader();
        AgainstBaseline();
        CountFirst();
        Costs();
        Targets();
        return _text.ToString();
    }

    private void NonStreaming(string title, string name, int[] rates)
    {
        Line("## " + title);
        Line();
        Header();
        var direct = Get($"{name}.saturate.direct");
        var gateway = Get($"{name}.saturate.gateway");
        Row("throughput at saturation, 32 connections (req/s)", Rps(direct), Rps(gateway), "", Ratio(Rps(gateway), Rps(direct)), 0);
        foreach (var rate in rates)
        {
            var d = Get($"{name}.rate{rate}.direct");
            var g = Get($"{name}.rate{rate}.gateway");
            Row($"achieved rate at {rate} req/s offered", Rps(d), Rps(g), "", double.NaN, 0);
            foreach (var p in new[] { 50, 90, 99 })
            {
                Latency($"p{p} latency at {rate} req/s (ms)", d.Get($"p{p}Us") / 1000, g.Get($"p{p}Us") / 1000);
            }

            foreach (var p in new[] { 50, 99 })
            {
                Latency($"p{p} from due time at {rate} req/s (ms, coordinated-omission corrected)",
                    d.Get($"scheduledP{p}Us") / 1000, g.Get($"scheduledP{p}Us") / 1000);
            }

            Row($"x-qhaigc-overhead-ms p50 / p99 at {rate} req/s", "", $"{F(g.Get("overheadP50Ms"), 3)} / {F(g.Get("overheadP99Ms"), 3)}", "", "");
        }

        Line();
    }

    private void Streaming(string title, string name)
    {
        Line("## " + title);
        Line();
        Header();
        var d = Get($"{name}.sequential.direct");
        var g = Get($"{name}.sequential.gateway");
        foreach (var (label, key) in new[] { ("time to first byte", "ttfb"), ("total time", "total") })
        {
            foreach (var p in new[] { 50, 90, 99 })
            {
                Latency($"{label} p{p}, one answer at a time (ms)", d.Get($"{key}P{p}Ms"), g.Get($"{key}P{p}Ms"));
            }
        }

        Row("x-qhaigc-overhead-ms p50 / p99 (until the first event is sent)", "", $"{F(g.Get("overheadP50Ms"), 3)} / {F(g.Get("overheadP99Ms"), 3)}", "", "");
        var sd = Get($"{name}.saturate.direct");
        var sg = Get($"{name}.saturate.gateway");
        Row($"answers per second at saturation, 16 connections", Rps(sd), Rps(sg), "", Ratio(Rps(sg), Rps(sd)), 0);
        Row($"events per second at saturation", Rps(sd) * streamEvents, Rps(sg) * streamEvents, "", Ratio(Rps(sg), Rps(sd)), 0);
        var pd = Get($"{name}.paced.direct");
        var pg = Get($"{name}.paced.gateway");
        Row("paced answer (20 events, 25 ms apart): most events in one read", pd.Get("mostEventsPerRead"), pg.Get("mostEventsPerRead"), "", double.NaN, 0);
        if (name == "chat-stream")
        {
            // The translated stream has fewer chunks than the Claude stream has events (content_block_start and _stop
            // become nothing), so its chunks cannot be paired with the direct OpenAI stream's one by one.
            Row("paced answer: first / last chunk arrives after (ms)", $"{F(pd.Get("firstEventMs"), 1)} / {F(pd.Get("lastEventMs"), 1)}",
                $"{F(pg.Get("firstEventMs"), 1)} / {F(pg.Get("lastEventMs"), 1)}", "", "");
        }
        else
        {
            Row("paced answer: last event arrives after (ms)", pd.Get("lastEventMs"), pg.Get("lastEventMs"), Added(pg.Get("lastEventMs") - pd.Get("lastEventMs")), double.NaN, 1);
            Row("paced answer: each event behind direct, median / max (ms)", "", $"{F(pg.Get("medianLagMs"), 2)} / {F(pg.Get("maxLagMs"), 2)}", "", "");
        }
        Line();
    }

    private void Reference()
    {
        Line("## Reference: a bare reverse proxy on the same path");
        Line();
        Line("YARP's forwarder and nothing else (no key, no parsing, no usage record), set up like the gateway's upstream client: " +
             "what any .NET proxy adds on this machine. Added is over direct.");
        Line();
        Line("| | direct | bare proxy | gateway |");
        Line("|---|---:|---:|---:|");
        var d = Get("messages.saturate.direct");
        var p = Get("messages.saturate.proxy");
        var g = Get("messages.saturate.gateway");
        Line($"| throughput at saturation, non-streaming (req/s) | {F(Rps(d), 0)} | {F(Rps(p), 0)} ({F(Ratio(Rps(p), Rps(d)), 2)}×) | {F(Rps(g), 0)} ({F(Ratio(Rps(g), Rps(d)), 2)}×) |");
        foreach (var pct in new[] { 50, 99 })
        {
            var dd = Get("messages.rate200.direct").Get($"scheduledP{pct}Us") / 1000;
            var pp = Get("messages.rate200.proxy").Get($"scheduledP{pct}Us") / 1000;
            var gg = Get("messages.rate200.gateway").Get($"scheduledP{pct}Us") / 1000;
            Line($"| p{pct} at 200 req/s, from due time (ms) | {F(dd, 3)} | {F(pp, 3)} ({Added(pp - dd)}) | {F(gg, 3)} ({Added(gg - dd)}) |");
        }

        var sd = Get("stream.sequential.direct").Get("ttfbP50Ms");
        var sp = Get("stream.sequential.proxy").Get("ttfbP50Ms");
        var sg = Get("stream.sequential.gateway").Get("ttfbP50Ms");
        Line($"| streaming time to first byte p50 (ms) | {F(sd, 3)} | {F(sp, 3)} ({Added(sp - sd)}) | {F(sg, 3)} ({Added(sg - sd)}) |");
        var ed = Get("stream.saturate.direct");
        var ep = Get("stream.saturate.proxy");
        var eg = Get("stream.saturate.gateway");
        Line($"| events per second at saturation | {F(Rps(ed) * streamEvents, 0)} | {F(Rps(ep) * streamEvents, 0)} ({F(Ratio(Rps(ep), Rps(ed)), 2)}×) | " +
             $"{F(Rps(eg) * streamEvents, 0)} ({F(Ratio(Rps(eg), Rps(ed)), 2)}×) |");
        Line($"| proxy process CPU per request, non-streaming at saturation (ms) | | {F(p.Get("proxyCpuMsPerRequest"), 3)} | {F(g.Get("gatewayCpuMsPerRequest"), 3)} |");
        Line($"| x-qhaigc-overhead-ms p50 at 200 req/s (ms) | | {F(Get("messages.rate200.proxy").Get("overheadP50Ms"), 3)} | {F(Get("messages.rate200.gateway").Get("overheadP50Ms"), 3)} |");
        Line();
    }

    /// <summary>
    /// The overhead header against the measured difference. An in-process clock sees from the moment the server hands
    /// the request over to the moment the answer's headers go out; it cannot see the kernel's loopback hops, the
    /// thread wake-ups before and after, or the server's own reading and writing. The bare proxy carries the same clock,
    /// so what it does not see of its own added latency is that hop: the header plus that hop should be what the gateway
    /// measurably adds.
    /// </summary>
    private void OverheadHeader()
    {
        Line("## The overhead header against the measured difference");
        Line();
        Line("`x-qhaigc-overhead-ms` counts from the moment Kestrel hands the request over until the answer's headers go out, less the " +
             "upstream's time (from the request body sent to the answer's headers in) and waits on the client. What no in-process " +
             "clock sees (the extra loopback hop in the kernel, thread wake-ups, Kestrel's own reading and writing) is measured on the " +
             "bare proxy, which carries the same clock: its added latency less its own header.");
        Line();
        Line("| p50 | measured added over direct | header | not seen by the header | header + the bare proxy's unseen hop | agreement |");
        Line("|---|---:|---:|---:|---:|---:|");
        foreach (var (label, agreement) in HeaderAgreements())
        {
            Line($"| {label} | {F(agreement.Added, 3)} | {F(agreement.Header, 3)} | {F(agreement.Added - agreement.Header, 3)} | " +
                 $"{F(agreement.Header + agreement.Hop, 3)} | {F(agreement.Ratio, 2)}× |");
        }

        var rounds = Rounds("agreement", static (d, p, g) => new HeaderAgreement(
            (g.Get("scheduledP50Us") - d.Get("scheduledP50Us")) / 1000, g.Get("overheadP50Ms"),
            (p.Get("scheduledP50Us") - d.Get("scheduledP50Us")) / 1000 - p.Get("overheadP50Ms")));
        var streamRounds = Rounds("agreement-stream", static (d, p, g) => new HeaderAgreement(
            g.Get("ttfbP50Ms") - d.Get("ttfbP50Ms"), g.Get("overheadP50Ms"), p.Get("ttfbP50Ms") - d.Get("ttfbP50Ms") - p.Get("overheadP50Ms")));
        if (rounds.Count > 0)
        {
            Line();
            Line("Direct, the bare proxy and the gateway take turns in short rounds (a different one first each round), so the " +
                 "machine's drift falls on all three alike; each row is one round's p50s (non-streaming from due time at 200 req/s, " +
                 "streaming time to first byte), the table above their medians.");
            Line();
            Line("| round | non-streaming: added | header | unseen hop (proxy) | streaming: added | header | unseen hop (proxy) |");
            Line("|---|---:|---:|---:|---:|---:|---:|");
            for (var i = 0; i < rounds.Count; i++)
            {
                var stream = i < streamRounds.Count ? streamRounds[i] : default;
                Line($"| {i + 1} | {F(rounds[i].Added, 3)} | {F(rounds[i].Header, 3)} | {F(rounds[i].Hop, 3)} | " +
                     $"{F(stream.Added, 3)} | {F(stream.Header, 3)} | {F(stream.Hop, 3)} |");
            }
        }
        else
        {
            var proxy = Get("messages.rate200.proxy");
            var d = Get("messages.rate200.direct");
            var proxyAdded = (proxy.Get("scheduledP50Us") - d.Get("scheduledP50Us")) / 1000;
            Line();
            Line($"The bare proxy, non-streaming at 200 req/s: adds {F(proxyAdded, 3)} ms, its header reads {F(proxy.Get("overheadP50Ms"), 3)} ms, " +
                 $"so the hop it cannot see is {F(proxyAdded - proxy.Get("overheadP50Ms"), 3)} ms.");
        }

        Line();
    }

    private IEnumerable<(string Label, HeaderAgreement Agreement)> HeaderAgreements()
    {
        var nonStreaming = Rounds("agreement", static (d, p, g) => new HeaderAgreement(
            (g.Get("scheduledP50Us") - d.Get("scheduledP50Us")) / 1000, g.Get("overheadP50Ms"),
            (p.Get("scheduledP50Us") - d.Get("scheduledP50Us")) / 1000 - p.Get("overheadP50Ms")));
        var streaming = Rounds("agreement-stream", static (d, p, g) => new HeaderAgreement(
            g.Get("ttfbP50Ms") - d.Get("ttfbP50Ms"), g.Get("overheadP50Ms"), p.Get("ttfbP50Ms") - d.Get("ttfbP50Ms") - p.Get("overheadP50Ms")));
        if (nonStreaming.Count > 0 && streaming.Count > 0)
        {
            yield return ($"non-streaming, 200 req/s, median of {nonStreaming.Count} rounds (ms)", Median(nonStreaming));
            yield return ($"streaming, time to first byte, median of {streaming.Count} rounds (ms)", Median(streaming));
            yield break;
        }

        // A run recorded before the rounds existed: its single measurement of each.
        var d = Get("messages.rate200.direct");
        var p = Get("messages.rate200.proxy");
        var g = Get("messages.rate200.gateway");
        var hop = (p.Get("scheduledP50Us") - d.Get("scheduledP50Us")) / 1000 - p.Get("overheadP50Ms");
        yield return ("non-streaming, 200 req/s (ms)", new HeaderAgreement((g.Get("scheduledP50Us") - d.Get("scheduledP50Us")) / 1000, g.Get("overheadP50Ms"), hop));

        var sd = Get("stream.sequential.direct");
        var sp = Get("stream.sequential.proxy");
        var sg = Get("stream.sequential.gateway");
        var streamHop = sp.Get("ttfbP50Ms") - sd.Get("ttfbP50Ms") - sp.Get("overheadP50Ms");
        yield return ("streaming, time to first byte (ms)", new HeaderAgreement(sg.Get("ttfbP50Ms") - sd.Get("ttfbP50Ms"), sg.Get("overheadP50Ms"), streamHop));
    }

    /// <summary>Each recorded round of <paramref name="scenario"/> (direct, proxy, gateway) as one agreement.</summary>
    private List<HeaderAgreement> Rounds(string scenario, Func<Numbers, Numbers, Numbers, HeaderAgreement> agreement)
    {
        var rounds = new List<HeaderAgreement>();
        for (var round = 0; results.ContainsKey($"{scenario}.r{round}.gateway"); round++)
        {
            rounds.Add(agreement(Get($"{scenario}.r{round}.direct"), Get($"{scenario}.r{round}.proxy"), Get($"{scenario}.r{round}.gateway")));
        }

        return rounds;
    }

    /// <summary>Each part's median over the rounds.</summary>
    private static HeaderAgreement Median(List<HeaderAgreement> rounds) => new(
        Stats.Median(rounds.ConvertAll(static r => r.Added)), Stats.Median(rounds.ConvertAll(static r => r.Header)), Stats.Median(rounds.ConvertAll(static r => r.Hop)));

    /// <summary>What the gateway measurably adds, what its header says, and the hop an in-process clock cannot see.</summary>
    private readonly record struct HeaderAgreement(double Added, double Header, double Hop)
    {
        /// <summary>(header + hop) / measured: 1 is perfect agreement.</summary>
        public double Ratio => Added <= 0 ? double.NaN : (Header + Hop) / Added;

        /// <summary>Within a quarter of the measured difference, or 0.1 ms where that is less.</summary>
        public bool Agrees => Math.Abs(Header + Hop - Added) <= Math.Max(0.1, Added / 4);
    }

    /// <summary>
    /// This tree's gateway against the baseline commit's (<c>--baseline</c>): per call and per event, the medians of the
    /// rounds in which the two took turns, and each round beside them to show the spread.
    /// </summary>
    private void AgainstBaseline()
    {
        var rounds = Rounds(BenchRun.BaselinePrefix, "saturate.current");
        if (rounds == 0)
        {
            return;
        }

        var events = streamEvents;
        RoundMetric[] metrics =
        [
            new("non-streaming at saturation: throughput (req/s, higher is better)", "saturate", 0, static (g, _) => Rps(g)),
            new("non-streaming at saturation: gateway CPU ms per call", "saturate", 3, static (g, _) => g.Get("gatewayCpuMsPerRequest")),
            new("non-streaming at saturation: allocated KB per call", "saturate", 2, static (g, _) => g.Get("gatewayAllocBytesPerRequest") / 1024),
            new("non-streaming at 200 req/s: gateway CPU ms per call", "rate200", 3, static (g, _) => g.Get("gatewayCpuMsPerRequest")),
            new("non-streaming at 200 req/s: allocated KB per call", "rate200", 2, static (g, _) => g.Get("gatewayAllocBytesPerRequest") / 1024),
            new("non-streaming at 200 req/s: added p50 over direct, from due time (ms)", "rate200", 3, AddedScheduled(50)),
            new("non-streaming at 200 req/s: added p99 over direct, from due time (ms)", "rate200", 3, AddedScheduled(99)),
            new($"streaming ({events}-event answers) at saturation: gateway CPU µs per event", "stream", 2,
                (g, _) => g.Get("gatewayCpuMsPerRequest") * 1000 / events),
            new($"streaming ({events}-event answers) at saturation: allocated B per event", "stream", 0,
                (g, _) => g.Get("gatewayAllocBytesPerRequest") / events),
        ];

        Line("## Against the baseline");
        Line();
        Line("This tree's gateway (current) against the gateway of the baseline commit named at the top, a second process with the " +
             "same settings, fake upstream and Azurite. In each round every scenario runs against both in turn (at 200 req/s also " +
             "direct, for the added latency), a different one first each round, so that the machine's drift falls on both alike. " +
             $"Medians of {rounds} rounds; CPU and allocation per call include writing the call's usage record.");
        Line();
        RoundsComparison(BenchRun.BaselinePrefix, "current", "baseline", rounds, metrics);
    }

    /// <summary>
    /// What <c>count-first</c> adds to a capped call with unmeasured input (<see cref="CountFirstRun"/>): both
    /// configurations' added latency over direct at a fixed rate, medians of the rounds in which they took turns.
    /// </summary>
    private void CountFirst()
    {
        var rounds = Rounds(CountFirstRun.Prefix, $"{CountFirstRun.Scenario}.{CountFirstRun.CountFirst}");
        if (rounds == 0)
        {
            return;
        }

        RoundMetric[] metrics =
        [
            new("added p50 over direct, from due time (ms)", CountFirstRun.Scenario, 3, AddedScheduled(50)),
            new("added p99 over direct, from due time (ms)", CountFirstRun.Scenario, 3, AddedScheduled(99)),
            new("added p50 over direct, from the actual send (ms)", CountFirstRun.Scenario, 3, static (g, d) => (g.Get("p50Us") - d.Get("p50Us")) / 1000),
            new("achieved rate (req/s)", CountFirstRun.Scenario, 0, static (g, _) => Rps(g)),
            new("non-2xx answers and socket errors", CountFirstRun.Scenario, 0, static (g, _) => g.Get("non2xx") + g.Get("socketErrors")),
            new("gateway CPU ms per call", CountFirstRun.Scenario, 3, static (g, _) => g.Get("gatewayCpuMsPerRequest")),
            new("Azurite CPU ms per call", CountFirstRun.Scenario, 3, static (g, _) => g.Get("azuriteCpuMsPerRequest")),
            new("storage reads per call", CountFirstRun.Scenario, 1, static (g, _) => g.Get("storageReads") / g.Get("requests")),
            new("storage writes per call", CountFirstRun.Scenario, 1, static (g, _) => g.Get("storageWrites") / g.Get("requests")),
            new("count_tokens calls upstream per call", CountFirstRun.Scenario, 2, static (g, _) => g.Get("countTokensPerRequest")),
        ];

        var settings = Get($"{CountFirstRun.Prefix}.settings");
        var delay = settings.Get("countDelayMs");
        var rate = settings.Get("rate");
        Line("## Unmeasured input: count-first against reserve-worst-case");
        Line();
        Line($"`Gateway:Limits:UnmeasuredInput`, non-streaming `POST /v1/messages` at {F(rate, 0)} req/s with a key that has a spend cap, each call " +
             "carrying a document by file id (input the gateway cannot measure): `reserve-worst-case` reserves the context window, " +
             "`count-first` first asks the upstream's `count_tokens`. Two more gateway processes with the same settings, fake upstream " +
             "and Azurite; in each round direct and the two run in turn, a different one first each round. " +
             $"The fake upstream answers `count_tokens` after {F(delay, 0)} ms" +
             (delay == 0 ? ", so the difference is what counting costs over loopback" : " (standing in for a real round trip)") +
             $"; in production count-first adds Anthropic's `count_tokens` round trip. Medians of {rounds} rounds; both include " +
             "the spend cap's reservation and settlement in storage" +
             (rate < 200 ? " (a capped call's storage work is why the rate is below the other scenarios' 200 req/s: see bench/README.md)" : "") +
             ". `count_tokens` calls per call above 1 are calls cut off when a run ended.");
        Line();
        RoundsComparison(CountFirstRun.Prefix, CountFirstRun.CountFirst, CountFirstRun.WorstCase, rounds, metrics);
    }

    /// <summary>How many rounds of <paramref name="prefix"/> the results hold (keys <c>prefix.rN.probe</c>).</summary>
    private int Rounds(string prefix, string probe)
    {
        var rounds = 0;
        while (results.ContainsKey($"{prefix}.r{rounds}.{probe}"))
        {
            rounds++;
        }

        return rounds;
    }

    /// <summary>
    /// Two contenders of rounds taken in turn: the medians of the rounds with their difference and ratio, then each round
    /// beside them to show the spread.
    /// </summary>
    private void RoundsComparison(string prefix, string first, string second, int rounds, RoundMetric[] metrics)
    {
        Line($"| | {first} | {second} | {first} − {second} | {first} / {second} |");
        Line("|---|---:|---:|---:|---:|");
        foreach (var metric in metrics)
        {
            var a = Stats.Median(RoundValues(prefix, metric, first, rounds));
            var b = Stats.Median(RoundValues(prefix, metric, second, rounds));
            // A ratio of an added latency at or below zero (within the noise of direct) would say nothing.
            var ratio = a >= 0 && b > 0 ? F(Ratio(a, b), 2) + "×" : "n/a";
            Line($"| {metric.Label} | {F(a, metric.Decimals)} | {F(b, metric.Decimals)} | {Signed(a - b, metric.Decimals)} | {ratio} |");
        }

        Line();
        Line($"Each round, {first} / {second}:");
        Line();
        Line("| | " + string.Join(" | ", Enumerable.Range(1, rounds).Select(static r => $"round {r}")) + " |");
        Line("|---|" + string.Concat(Enumerable.Repeat("---:|", rounds)));
        foreach (var metric in metrics)
        {
            var a = RoundValues(prefix, metric, first, rounds);
            var b = RoundValues(prefix, metric, second, rounds);
            Line($"| {metric.Label} | " + string.Join(" | ", a.Zip(b, (x, y) => $"{F(x, metric.Decimals)} / {F(y, metric.Decimals)}")) + " |");
        }

        Line();
    }

    /// <summary>The added latency at percentile <paramref name="p"/> over direct, from each request's due time (ms).</summary>
    private static Func<Numbers, Numbers, double> AddedScheduled(int p) =>
        (g, d) => (g.Get($"scheduledP{p}Us") - d.Get($"scheduledP{p}Us")) / 1000;

    /// <summary>A metric's value in each round, for one contender.</summary>
    private List<double> RoundValues(string prefix, RoundMetric metric, string contender, int rounds) =>
        [.. Enumerable.Range(0, rounds).Select(r => metric.Value(
            Get($"{prefix}.r{r}.{metric.Scenario}.{contender}"), Get($"{prefix}.r{r}.{metric.Scenario}.direct")))];

    /// <summary>One row of rounds taken in turn: its scenario, and its value from a contender's run and the direct run.</summary>
    private sealed record RoundMetric(string Label, string Scenario, int Decimals, Func<Numbers, Numbers, double> Value);

    private void Costs()
    {
        Line("## What the gateway spends");
        Line();
        Line("| gateway run | requests | gateway CPU ms / request | gateway CPU (cores) | allocated KB / request | GC gen0 / gen1 / gen2 | Azurite CPU ms / request | table reads | table writes | usage records queued at end |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var peak = 0.0;
        foreach (var (key, n) in results.Where(static r => r.Key.EndsWith(".gateway", StringComparison.Ordinal) && r.Value.ContainsKey("gatewayCpuMsPerRequest")))
        {
            Line($"| {key[..^".gateway".Length]} | {F(n.Get("requests"), 0)} | {F(n.Get("gatewayCpuMsPerRequest"), 3)} | {F(n.Get("gatewayCpuCores"), 2)} | " +
                 $"{F(n.Get("gatewayAllocBytesPerRequest") / 1024, 1)} | {F(n.Get("gatewayGen0"), 0)} / {F(n.Get("gatewayGen1"), 0)} / {F(n.Get("gatewayGen2"), 0)} | " +
                 $"{F(n.Get("azuriteCpuMsPerRequest"), 3)} | {F(n.Get("storageReads"), 0)} | {F(n.Get("storageWrites"), 0)} | {F(n.Get("usageBacklogAtEnd"), 0)} |");
            peak = Math.Max(peak, n.Get("gatewayPeakRssBytes"));
        }

        Line();
        var perEvent = PerEventAllocation();
        var trickling = TricklingAllocation();
        var wire = WireBytesPerEvent();
        Line($"- Allocated per streamed event (slope between 20- and {streamEvents}-event answers): **{F(perEvent, 0)} B** at saturation, " +
             $"**{F(trickling, 0)} B** when events trickle in 2 ms apart (20- and 100-event answers); an event is {F(wire, 0)} B on the wire. " +
             "The upstream reader (SseReader) hands each event over as a copy of its data (a byte array); Claude's event names are cached strings.");
        Line($"- Gateway peak memory (VmHWM): **{F(peak / (1024 * 1024), 0)} MiB**.");
        Line();
    }

    private void Targets()
    {
        Line("## Targets");
        Line();
        var d200 = Get("messages.rate200.direct");
        var g200 = Get("messages.rate200.gateway");
        var addedP50 = (g200.Get("scheduledP50Us") - d200.Get("scheduledP50Us")) / 1000;
        var addedP99 = (g200.Get("scheduledP99Us") - d200.Get("scheduledP99Us")) / 1000;
        Target(addedP50 < 1, $"added p50 latency, non-streaming, 200 req/s, under 1 ms: {Added(addedP50)} ms");
        Target(addedP99 < 5, $"added p99 latency, non-streaming, 200 req/s, under 5 ms: {Added(addedP99)} ms");

        var sd = Get("stream.sequential.direct");
        var sg = Get("stream.sequential.gateway");
        var ttfb = sg.Get("ttfbP50Ms") - sd.Get("ttfbP50Ms");
        Target(ttfb < 1, $"added time to first byte, streaming, p50, under 1 ms: {Added(ttfb)} ms");
        var paced = Get("stream.paced.gateway");
        var unbuffered = paced.Get("mostEventsPerRead") <= 1 && paced.Get("maxLagMs") < 10;
        Target(unbuffered, $"events arrive unbuffered: at most {F(paced.Get("mostEventsPerRead"), 0)} event per read, " +
                           $"each at most {F(paced.Get("maxLagMs"), 2)} ms behind the direct stream (events 25 ms apart)");

        foreach (var (label, agreement) in HeaderAgreements())
        {
            Target(agreement.Agrees, $"the overhead header agrees with the measured difference, {label[..label.IndexOf(" (", StringComparison.Ordinal)]}: " +
                                     $"header {F(agreement.Header, 3)} ms + unseen hop {F(agreement.Hop, 3)} ms = {F(agreement.Header + agreement.Hop, 3)} ms " +
                                     $"against {F(agreement.Added, 3)} ms measured (within a quarter, or 0.1 ms)");
        }

        var throughput = Ratio(Rps(Get("messages.saturate.gateway")), Rps(Get("messages.saturate.direct")));
        Target(throughput >= 0.5, $"throughput through the gateway at least half of direct: {F(throughput, 2)}× (non-streaming)");
        var streams = Ratio(Rps(Get("stream.saturate.gateway")), Rps(Get("stream.saturate.direct")));
        Line($"  (streaming: {F(streams, 2)}× of direct events per second)");

        // A cached key in use is re-read in the background once per cache time; a request that waited on the table
        // would come with the other connections' reads of the same key, several at once.
        var runs = results.Where(static r => r.Key.EndsWith(".gateway", StringComparison.Ordinal) && r.Value.ContainsKey("storageReads")).ToList();
        var reads = runs.Sum(static r => r.Value.Get("storageReads"));
        var most = runs.Count == 0 ? 0 : runs.Max(static r => r.Value.Get("storageReads"));
        Target(most <= 1, $"no table read on the request path with a cached key: {F(reads, 0)} key reads in {runs.Count} measured gateway runs, " +
                          $"at most {F(most, 0)} in one (a background refresh)");
        // The event's own bytes: its data in a byte array with an object header (SseReader caches Claude's event names;
        // SseParser, before it, also allocated the name as a string): at most 64 B more than the event takes on the wire.
        var perEvent = Math.Max(PerEventAllocation(), TricklingAllocation());
        var wire = WireBytesPerEvent();
        Target(perEvent <= wire + 64, $"no allocation per event beyond the event's bytes: at most {F(perEvent, 0)} B allocated per event " +
                                      $"(saturated or trickling), for an event of {F(wire, 0)} B on the wire: its data, as SseReader returns it");
        Line();
    }

    private double PerEventAllocation()
    {
        var a200 = Get("stream.saturate.gateway").Get("gatewayAllocBytesPerRequest");
        var a20 = Get("stream.saturate20.gateway").Get("gatewayAllocBytesPerRequest");
        return (a200 - a20) / (streamEvents - 20);
    }

    private double TricklingAllocation()
    {
        var a100 = Get("stream.trickle100.gateway").Get("gatewayAllocBytesPerRequest");
        var a20 = Get("stream.trickle20.gateway").Get("gatewayAllocBytesPerRequest");
        return (a100 - a20) / 80;
    }

    private double WireBytesPerEvent()
    {
        var direct = Get("stream.saturate.direct");
        return direct.Get("bytes") / direct.Get("requests") / streamEvents;
    }

    private void Target(bool met, string text) => Line($"- {(met ? "**met**" : "**not met**")}: {text}");

    private void Header()
    {
        Line("| | direct | gateway | added | gateway / direct |");
        Line("|---|---:|---:|---:|---:|");
    }

    private void Latency(string label, double direct, double gateway) =>
        Row(label, direct, gateway, Added(gateway - direct), Ratio(gateway, direct), 3);

    private void Row(string label, double direct, double gateway, string added, double ratio, int decimals) =>
        Row(label, F(direct, decimals), F(gateway, decimals), added, double.IsNaN(ratio) ? "" : F(ratio, 2) + "×");

    private void Row(string label, string direct, string gateway, string added, string ratio) =>
        Line($"| {label} | {direct} | {gateway} | {added} | {ratio} |");

    private Numbers Get(string key) => results.TryGetValue(key, out var numbers) ? numbers : new Numbers();

    private static double Rps(Numbers n) => n.Get("requests") / (n.Get("durationUs") / 1_000_000);

    private static double Ratio(double a, double b) => a / b;

    private static string Signed(double value, int decimals) => double.IsNaN(value) ? "n/a" : (value >= 0 ? "+" : "−") + F(Math.Abs(value), decimals);

    private static string Added(double value) => double.IsNaN(value) ? "" : Signed(value, 3);

    private static string F(double value, int decimals) =>
        double.IsNaN(value) || double.IsInfinity(value) ? "n/a" : value.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private void Line(string text = "") => _text.Append(text).Append('\n');
}
