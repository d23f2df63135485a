using System.Net;

namespace Qhaigc.Bench.Runner;

/// <summary>
/// The scenarios, each run direct to the fake upstream and then through the gateway with the same requests and the
/// same load tool. Results are keyed <c>scenario.target</c> (for example <c>messages.rate200.gateway</c>). With a
/// baseline gateway (<c>--baseline</c>, <paramref name="baselineCost"/> its meter), the regression scenarios then run
/// against both gateways in turn, keyed <c>vs-baseline.rROUND.scenario.target</c>. Last, unless
/// <c>--skip-count-first</c>, the cost of <c>count-first</c> (<see cref="CountFirstRun"/>).
/// </summary>
public sealed class BenchRun(BenchOptions options, Servers servers, Wrk wrk, CostMeter cost, CostMeter? baselineCost, string bodies,
    Action<string> progress)
{
    public const string MessagesPath = "v1/messages";
    public const string ChatPath = "v1/chat/completions";

    private static readonly string[] MessagesHeaders = ["x-api-key: " + Servers.GatewayKey, "anthropic-version: 2023-06-01"];
    private static readonly string[] ChatHeaders = ["Authorization: Bearer " + Servers.GatewayKey];

    public Dictionary<string, Numbers> Results { get; } = new(StringComparer.Ordinal);

    public bool ChatAvailable { get; private set; }

    public async Task RunAsync()
    {
        var direct = new Target("direct", servers.UpstreamUrl, MessagesHeaders);
        var gateway = new Target("gateway", servers.GatewayUrl, MessagesHeaders);
        var proxy = new Target("proxy", servers.ProxyUrl, MessagesHeaders);
        var chatDirect = new Target("direct", servers.UpstreamUrl, ChatHeaders);
        var chatGateway = new Target("gateway", servers.GatewayUrl, ChatHeaders);
        var events = options.StreamEvents;

        var messages = Body("messages.json", $$"""{"model":"bench","max_tokens":256,"messages":[{"role":"user","content":"Hello, Claude"}]}""");
        var stream = Body("messages-stream.json", $$"""{"model":"bench-e{{events}}","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"Hello, Claude"}]}""");
        var stream20 = Body("messages-stream-e20.json", """{"model":"bench-e20","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"Hello, Claude"}]}""");
        var trickle100 = Body("messages-trickle-e100.json", """{"model":"bench-e100-g2","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"Hello, Claude"}]}""");
        var trickle20 = Body("messages-trickle-e20.json", """{"model":"bench-e20-g2","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"Hello, Claude"}]}""");
        var paced = Body("messages-paced.json", """{"model":"bench-e20-g25","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"Hello, Claude"}]}""");
        var chat = Body("chat.json", """{"model":"bench","max_tokens":256,"messages":[{"role":"user","content":"Hello, Claude"}]}""");
        var chatStream = Body("chat-stream.json", $$"""{"model":"bench-e{{events}}","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"Hello, Claude"}]}""");
        var chatPaced = Body("chat-paced.json", """{"model":"bench-e20-g25","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"Hello, Claude"}]}""");

        ChatAvailable = await AnswersAsync(new Uri(servers.GatewayUrl, ChatPath), ChatHeaders, chat);

        progress("warming up (JIT, connection pools, key cache)");
        foreach (var target in new[] { direct, proxy, gateway })
        {
            await wrk.SaturateAsync(target, MessagesPath, messages, 2, 32, options.Warmup);
            await wrk.SaturateAsync(target, MessagesPath, stream, 2, 8, options.Warmup / 2);
        }

        if (ChatAvailable)
        {
            foreach (var target in new[] { chatDirect, chatGateway })
            {
                await wrk.SaturateAsync(target, ChatPath, chat, 2, 32, options.Warmup / 2);
                await wrk.SaturateAsync(target, ChatPath, chatStream, 2, 8, options.Warmup / 2);
            }
        }

        await NonStreamingAsync("messages", MessagesPath, messages, direct, gateway, [200, 1000]);
        await StreamingAsync("stream", MessagesPath, stream, paced, direct, gateway);

        progress("reference: the same through a bare reverse proxy (YARP's forwarder)");
        Results["messages.saturate.proxy"] = await cost.MeasureProxyAsync(() => wrk.SaturateAsync(proxy, MessagesPath, messages, 2, 32, options.Saturation));
        Results["messages.rate200.proxy"] = await cost.MeasureProxyAsync(() => wrk.PacedAsync(proxy, MessagesPath, messages, 200, 8, options.Paced));
        Results["stream.sequential.proxy"] = await Curl.SequentialAsync(proxy, MessagesPath, stream, options.SequentialStreams);
        Results["stream.saturate.proxy"] = await cost.MeasureProxyAsync(() => wrk.SaturateAsync(proxy, MessagesPath, stream, 2, 16, options.Saturation));

        await AgreementRoundsAsync(messages, stream, direct, proxy, gateway);

        progress($"stream: {20}-event answers through the gateway (allocations per event)");
        Results["stream.saturate20.gateway"] = await cost.MeasureAsync(() => wrk.SaturateAsync(gateway, MessagesPath, stream20, 2, 16, options.Saturation));

        // At saturation events come in bunches and most reads complete at once; a model's stream trickles, one
        // event per read, which is where a per-event cost of waiting shows.
        progress("stream: trickling answers (events 2 ms apart) through the gateway (allocations per event)");
        Results["stream.trickle100.gateway"] = await cost.MeasureAsync(() => wrk.SaturateAsync(gateway, MessagesPath, trickle100, 2, 32, options.Saturation));
        Results["stream.trickle20.gateway"] = await cost.MeasureAsync(() => wrk.SaturateAsync(gateway, MessagesPath, trickle20, 2, 32, options.Saturation));

        if (ChatAvailable)
        {
            await NonStreamingAsync("chat", ChatPath, chat, chatDirect, chatGateway, [200]);
            await StreamingAsync("chat-stream", ChatPath, chatStream, chatPaced, chatDirect, chatGateway);
        }

        if (baselineCost is not null)
        {
            await AgainstBaselineAsync(messages, stream, direct, gateway, baselineCost);
        }

        if (!options.SkipCountFirst)
        {
            using var http = new HttpClient();
            await new CountFirstRun(options, servers, wrk, cost, http, Results, bodies, progress).RunAsync();
        }
    }

    /// <summary>The key prefix of the rounds against the baseline gateway.</summary>
    public const string BaselinePrefix = "vs-baseline";

    /// <summary>Rounds against the baseline gateway (<see cref="AgainstBaselineAsync"/>).</summary>
    public const int BaselineRounds = 5;

    /// <summary>
    /// This tree's gateway against the baseline's, in short rounds: in each, every scenario that shows a regression
    /// (non-streaming at saturation and at 200 req/s, with direct for the added latency; 200-event streams at
    /// saturation) runs against each in turn, a different one first each round, so that the machine's drift over the
    /// rounds falls on both alike. The report takes the median of the rounds.
    /// </summary>
    private async Task AgainstBaselineAsync(string messages, string stream, Target direct, Target gateway, CostMeter baseline)
    {
        var baselineTarget = new Target("baseline", servers.BaselineUrl!, MessagesHeaders);
        var viaDirect = new Contender("direct", direct, cost.MeasureDirectAsync);
        var viaCurrent = new Contender("current", gateway, cost.MeasureAsync);
        var viaBaseline = new Contender("baseline", baselineTarget, baseline.MeasureAsync);
        (string Name, Contender[] Contenders, Func<Target, Task<Numbers>> Load)[] scenarios =
        [
            ("saturate", [viaCurrent, viaBaseline], target => wrk.SaturateAsync(target, MessagesPath, messages, 2, 32, options.Saturation / 2)),
            ("rate200", [viaDirect, viaCurrent, viaBaseline], target => wrk.PacedAsync(target, MessagesPath, messages, 200, 8, options.Paced / 2)),
            ("stream", [viaCurrent, viaBaseline], target => wrk.SaturateAsync(target, MessagesPath, stream, 2, 16, options.Saturation / 2)),
        ];

        // The gateway has been through every scenario by now; the baseline gets its warm-up and then each scenario of
        // the rounds once, unmeasured, so that it starts the rounds as warm (tiered compilation done).
        progress("against the baseline: warming up the baseline gateway");
        await wrk.SaturateAsync(baselineTarget, MessagesPath, messages, 2, 32, options.Warmup);
        await wrk.SaturateAsync(baselineTarget, MessagesPath, stream, 2, 8, options.Warmup / 2);
        foreach (var scenario in scenarios)
        {
            await scenario.Load(baselineTarget);
        }

        var rounds = options.Quick ? 2 : BaselineRounds;
        for (var round = 0; round < rounds; round++)
        {
            progress($"against the baseline: round {round + 1} of {rounds}");
            foreach (var (name, contenders, load) in scenarios)
            {
                await InTurnAsync(round, name, contenders, load);
            }
        }

        async Task InTurnAsync(int round, string scenario, Contender[] contenders, Func<Target, Task<Numbers>> load)
        {
            for (var i = 0; i < contenders.Length; i++)
            {
                var contender = contenders[(round + i) % contenders.Length];
                Results[$"{BaselinePrefix}.r{round}.{scenario}.{contender.Name}"] = await contender.Measure(() => load(contender.Target));
            }
        }
    }

    /// <summary>
    /// The overhead header against the measured difference, in short rounds that take direct, the bare proxy and the
    /// gateway in turn (a different one first each round), so that the machine's drift over a run, which moves a p50 of
    /// a few tenths of a millisecond by as much as the gateway adds, falls on all three alike. The report takes the
    /// median of the rounds.
    /// </summary>
    private async Task AgreementRoundsAsync(string messages, string stream, Target direct, Target proxy, Target gateway)
    {
        Target[] targets = [direct, proxy, gateway];
        var rounds = options.Quick ? 2 : AgreementRounds;
        for (var round = 0; round < rounds; round++)
        {
            progress($"overhead header against the measured difference: round {round + 1} of {rounds}");
            for (var i = 0; i < targets.Length; i++)
            {
                var target = targets[(round + i) % targets.Length];
                Results[$"agreement.r{round}.{target.Name}"] = await wrk.PacedAsync(target, MessagesPath, messages, 200, 8, options.Paced / 2);
                Results[$"agreement-stream.r{round}.{target.Name}"] = await Curl.SequentialAsync(target, MessagesPath, stream, options.SequentialStreams / 2);
            }
        }
    }

    /// <summary>Rounds of the header agreement (<see cref="AgreementRoundsAsync"/>).</summary>
    public const int AgreementRounds = 5;

    private async Task NonStreamingAsync(string name, string path, string body, Target direct, Target gateway, int[] rates)
    {
        progress($"{name}: throughput at saturation");
        Results[$"{name}.saturate.direct"] = await cost.MeasureDirectAsync(() => wrk.SaturateAsync(direct, path, body, 2, 32, options.Saturation));
        Results[$"{name}.saturate.gateway"] = await cost.MeasureAsync(() => wrk.SaturateAsync(gateway, path, body, 2, 32, options.Saturation));

        foreach (var rate in rates)
        {
            progress($"{name}: latency at {rate} requests per second");
            // One connection per wrk thread; enough of them that each sends at most ~60 requests a second.
            var connections = Math.Max(8, rate / 60);
            Results[$"{name}.rate{rate}.direct"] = await cost.MeasureDirectAsync(() => wrk.PacedAsync(direct, path, body, rate, connections, options.Paced));
            Results[$"{name}.rate{rate}.gateway"] = await cost.MeasureAsync(() => wrk.PacedAsync(gateway, path, body, rate, connections, options.Paced));
        }
    }

    private async Task StreamingAsync(string name, string path, string body, string pacedBody, Target direct, Target gateway)
    {
        progress($"{name}: time to first byte and total time, {options.SequentialStreams} answers one after another");
        foreach (var target in new[] { direct, gateway })
        {
            Results[$"{name}.sequential.{target.Name}"] = await Curl.SequentialAsync(target, path, body, options.SequentialStreams);
        }

        progress($"{name}: event arrival times of a paced answer (20 events, 25 ms apart)");
        var arrivals = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        foreach (var target in new[] { direct, gateway })
        {
            var (times, mostPerRead) = await Curl.TraceAsync(target, path, pacedBody);
            arrivals[target.Name] = times;
            Results[$"{name}.paced.{target.Name}"] = new Numbers
            {
                ["events"] = times.Count,
                ["mostEventsPerRead"] = mostPerRead,
                ["firstEventMs"] = times.Count > 0 ? times[0] : double.NaN,
                ["lastEventMs"] = times.Count > 0 ? times[^1] : double.NaN,
            };
        }

        // Unbuffered means each event leaves the gateway when it arrives: its delay behind the direct stream stays
        // the same from the first event to the last.
        var lags = arrivals["gateway"].Zip(arrivals["direct"], static (g, d) => g - d).ToList();
        Results[$"{name}.paced.gateway"]["maxLagMs"] = lags.Count > 0 ? lags.Max() : double.NaN;
        Results[$"{name}.paced.gateway"]["medianLagMs"] = lags.Count > 0 ? Stats.Median(lags) : double.NaN;

        progress($"{name}: events per second at saturation");
        Results[$"{name}.saturate.direct"] = await cost.MeasureDirectAsync(() => wrk.SaturateAsync(direct, path, body, 2, 16, options.Saturation));
        Results[$"{name}.saturate.gateway"] = await cost.MeasureAsync(() => wrk.SaturateAsync(gateway, path, body, 2, 16, options.Saturation));
    }

    private string Body(string fileName, string json)
    {
        var path = Path.Combine(bodies, fileName);
        File.WriteAllText(path, json);
        return path;
    }

    private static async Task<bool> AnswersAsync(Uri url, string[] headers, string bodyFile)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(await File.ReadAllTextAsync(bodyFile), System.Text.Encoding.UTF8, "application/json"),
        };
        foreach (var header in headers)
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            request.Headers.TryAddWithoutValidation(header[..colon], header[(colon + 1)..].Trim());
        }

        using var response = await http.SendAsync(request);
        return response.StatusCode == HttpStatusCode.OK;
    }
}
