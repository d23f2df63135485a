using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

namespace Qhaigc.Bench.Runner;

/// <summary>
/// What <c>Gateway:Limits:UnmeasuredInput = count-first</c> costs in latency (docs/limits-and-prices.md#what-a-hard-cap-guarantees):
/// two more gateway processes with the same settings, one <c>reserve-worst-case</c> and one <c>count-first</c>, a key
/// with a spend cap made through <c>/manage/keys</c>, and a call whose input the gateway cannot measure (a document
/// by file id: a source by URL is never counted first), so that count-first asks the fake upstream's <c>count_tokens</c> before admission. Rounds at a fixed rate
/// (<c>--count-first-rate</c>, default 50 req/s: what a capped key sustains on two cores) take direct and the two gateways in turn (a different one first each round); results are keyed
/// <c>count-first.rROUND.paced.TARGET</c>. Both gateways are stopped at the end.
/// </summary>
public sealed class CountFirstRun(BenchOptions options, Servers servers, Wrk wrk, CostMeter directCost, HttpClient http,
    Dictionary<string, Numbers> results, string bodies, Action<string> progress)
{
    public const string Prefix = "count-first";
    public const string WorstCase = "reserve-worst-case";
    public const string CountFirst = "count-first";
    public const int Rounds = 3;

    /// <summary>The one scenario of the rounds (non-streaming at a fixed rate), the middle part of a result key.</summary>
    public const string Scenario = "paced";

    /// <summary>One connection per wrk thread, as the other paced runs (each sends at most ~60 requests a second).</summary>
    private int Connections => Math.Max(8, options.CountFirstRate / 60);

    /// <summary>Large enough never to refuse a call: each reservation is given back when its call ends.</summary>
    private const int SpendCap = 1_000_000;

    private const string Document =
        """{"model":"bench","max_tokens":256,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"file","file_id":"file_011CNha8iCJcU1wXNR6q4V8w"}},{"type":"text","text":"Summarize this document."}]}]}""";

    public async Task RunAsync()
    {
        // A fresh admin key each run (32+ characters; the gateway takes any on loopback Azurite, this one would pass anywhere).
        var adminKey = "bench-admin-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        var common = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Gateway__AdminKey"] = adminKey,
            // A spend cap needs a price for the model; the fake's answers cost Sonnet's list prices.
            ["Gateway__Prices__bench__Models"] = "bench*",
            ["Gateway__Prices__bench__Input"] = "3",
            ["Gateway__Prices__bench__Output"] = "15",
        };

        progress("count-first: starting a reserve-worst-case and a count-first gateway");
        var (worstProcess, worstUrl) = await servers.StartExtraGatewayAsync("reserve-worst-case gateway", "worst-case-gateway.log",
            new Dictionary<string, string>(common, StringComparer.Ordinal) { ["Gateway__Limits__UnmeasuredInput"] = WorstCase });
        using var worstGateway = worstProcess;
        var (countProcess, countUrl) = await servers.StartExtraGatewayAsync("count-first gateway", "count-first-gateway.log",
            new Dictionary<string, string>(common, StringComparer.Ordinal) { ["Gateway__Limits__UnmeasuredInput"] = CountFirst });
        using var countGateway = countProcess;

        var key = await CreateCappedKeyAsync(worstUrl, adminKey);
        string[] headers = ["x-api-key: " + key, "anthropic-version: 2023-06-01"];
        var body = Path.Combine(bodies, "messages-document-file.json");
        await File.WriteAllTextAsync(body, Document);

        // Each answers the capped call (the key read, then cached), and only count-first asks count_tokens for it.
        var worstCounts = await CountTokensAskedAsync(worstUrl, headers);
        var countCounts = await CountTokensAskedAsync(countUrl, headers);
        if (worstCounts != 0 || countCounts != 1)
        {
            throw new InvalidOperationException(
                $"count-first: expected count_tokens asked 0 times by reserve-worst-case and once by count-first, got {worstCounts} and {countCounts}.");
        }

        var worst = new Contender(WorstCase, new Target(WorstCase, worstUrl, headers),
            new CostMeter(servers, worstGateway, worstUrl, http, () => AnswerAsync(worstUrl, headers)).MeasureAsync);
        var counting = new Contender(CountFirst, new Target(CountFirst, countUrl, headers),
            new CostMeter(servers, countGateway, countUrl, http, () => AnswerAsync(countUrl, headers)).MeasureAsync);
        var direct = new Contender("direct", new Target("direct", servers.UpstreamUrl, headers), directCost.MeasureDirectAsync);
        Contender[] contenders = [direct, worst, counting];

        progress("count-first: warming up both gateways");
        foreach (var contender in contenders)
        {
            await wrk.PacedAsync(contender.Target, BenchRun.MessagesPath, body, options.CountFirstRate, Connections, options.Warmup);
        }

        var rounds = options.Quick ? 2 : Rounds;
        for (var round = 0; round < rounds; round++)
        {
            progress($"count-first: round {round + 1} of {rounds} at {options.CountFirstRate} req/s");
            for (var i = 0; i < contenders.Length; i++)
            {
                var contender = contenders[(round + i) % contenders.Length];
                // Counted around the load alone: the meter's own call to keep the key cached comes before it.
                long asked = 0;
                var numbers = await contender.Measure(async () =>
                {
                    var before = await UpstreamCountRequestsAsync();
                    var load = await wrk.PacedAsync(contender.Target, BenchRun.MessagesPath, body, options.CountFirstRate, Connections, options.Paced / 2);
                    asked = await UpstreamCountRequestsAsync() - before;
                    return load;
                });
                numbers["countTokensPerRequest"] = asked / numbers.Get("requests");
                results[$"{Prefix}.r{round}.{Scenario}.{contender.Name}"] = numbers;
            }
        }

        results[$"{Prefix}.settings"] = new Numbers { ["countDelayMs"] = options.CountDelayMs, ["rate"] = options.CountFirstRate };
    }

    private async Task<string> CreateCappedKeyAsync(Uri gatewayUrl, string adminKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gatewayUrl, "manage/keys"))
        {
            Content = JsonContent.Create(new { name = "bench-capped", limits = new { spendCap = SpendCap, spendPeriod = "lifetime" } }),
        };
        request.Headers.TryAddWithoutValidation("x-api-key", adminKey);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"count-first: POST /manage/keys answered {(int)response.StatusCode}: {text}");
        }

        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("key").GetString()
               ?? throw new InvalidOperationException("count-first: the new key's answer carries no secret.");
    }

    private async Task<long> CountTokensAskedAsync(Uri gatewayUrl, string[] headers)
    {
        var before = await UpstreamCountRequestsAsync();
        await AnswerAsync(gatewayUrl, headers);
        return await UpstreamCountRequestsAsync() - before;
    }

    private Task AnswerAsync(Uri gatewayUrl, string[] headers) =>
        Ports.WaitAnswersAsync(http, new Uri(gatewayUrl, BenchRun.MessagesPath), headers, JsonSerializer.Deserialize<JsonElement>(Document), TimeSpan.FromSeconds(60));

    private async Task<long> UpstreamCountRequestsAsync() =>
        long.Parse(await http.GetStringAsync(new Uri(servers.UpstreamUrl, "_bench/count-requests")), NumberStyles.None, CultureInfo.InvariantCulture);
}
