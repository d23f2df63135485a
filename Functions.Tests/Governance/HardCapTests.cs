using System.Net;
using System.Text.Json;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>
/// The eight-call attack on a hard cap (docs/limits-and-prices.md#what-a-hard-cap-guarantees): a $1.00 lifetime cap,
/// eight concurrent calls over two instances, each with a PDF by URL the gateway cannot measure and the upstream bills
/// at 150,000 input tokens. The fake holds every call it receives until all eight are either refused or with it, so
/// every admitted call is in flight at once.
/// </summary>
public sealed class HardCapTests
{
    private const int Calls = 8;
    private const long CapMicros = 1_000_000;
    private const long BilledInput = 150_000;

    [Fact]
    public async Task SpendCap_EightConcurrentCallsWithUnmeasuredInput_SettleWithinTheCap()
    {
        // Arrange: each call reserves a whole context window (200,000 tokens at 3 per million, $0.60), so one fits.
        await using var cluster = await StartAsync(static _ => { });
        var (secret, key) = await cluster.Environment.CreateKeyAsync(limits: """{"spendCap":1,"spendPeriod":"lifetime"}""");

        // Act
        var responses = await AttackAsync(cluster, secret);

        // Assert
        var spend = await cluster.SpendAsync(key.Id, SpendPeriods.Key(SpendPeriod.Lifetime, DateTimeOffset.UtcNow));
        Assert.True(spend!.SpentMicros <= CapMicros, $"settled {spend.SpentMicros} micro-units against a cap of {CapMicros}");
        Assert.Equal(0, spend.ReservedMicros);
        Assert.Equal(1, responses.Count(static r => r.Status == HttpStatusCode.OK));
        Assert.All(responses.Where(static r => r.Status != HttpStatusCode.OK), static r =>
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, r.Status);
            Assert.Contains("\"billing_error\"", r.Body, StringComparison.Ordinal);
        });
        Assert.Equal(1, cluster.Upstream.HeldCalls);
    }

    private const string ByUrl = """{"type":"document","source":{"type":"url","url":"https://example.com/annual-report.pdf"}}""";

    /// <summary>A file the upstream holds: the same bytes for count_tokens and for the call.</summary>
    private const string FileId = "file_011CNha8iCJcU1wXNR6q4V8w";

    private const string ByFileId = "{\"type\":\"document\",\"source\":{\"type\":\"file\",\"file_id\":\"" + FileId + "\"}}";

    /// <summary>The cited file is the key's own (uploaded through the gateway to the fake upstream, docs/files.md#ownership).</summary>
    private static async Task OwnTheFileAsync(GatewayCluster cluster, string keyId) =>
        Assert.True(await cluster.Environment.Objects.AddAsync(new Qhaigc.Functions.Ownership.OwnedObject
        {
            Kind = Qhaigc.Functions.Ownership.OwnedKinds.File, Id = FileId, OwnerKeyId = keyId, Upstream = "anthropic", UpstreamId = FileId,
            CreatedAt = DateTimeOffset.UtcNow, State = "{\"id\":\"" + FileId + "\",\"type\":\"file\"}",
        }, CancellationToken.None));

    [Fact]
    public async Task SpendCap_CountFirst_ReservesTheUpstreamsCountAndSettlesWithinTheCap()
    {
        // Arrange: count-first, no margin: the upstream counts 150,000 tokens, so each call reserves $0.4515 and two fit.
        await using var cluster = await StartAsync(static settings =>
        {
            settings["Gateway:Limits:UnmeasuredInput"] = "count-first";
            settings["Gateway:Limits:InputEstimateMargin"] = "1";
        });
        cluster.Upstream.CountedInputTokens = BilledInput;
        var (secret, key) = await cluster.Environment.CreateKeyAsync(limits: """{"spendCap":1,"spendPeriod":"lifetime"}""");
        await OwnTheFileAsync(cluster, key.Id);

        // Act
        var responses = await AttackAsync(cluster, secret, ByFileId);

        // Assert: the count went to count_tokens without the fields it refuses.
        var spend = await cluster.SpendAsync(key.Id, SpendPeriods.Key(SpendPeriod.Lifetime, DateTimeOffset.UtcNow));
        Assert.True(spend!.SpentMicros <= CapMicros, $"settled {spend.SpentMicros} micro-units against a cap of {CapMicros}");
        Assert.Equal(2, responses.Count(static r => r.Status == HttpStatusCode.OK));
        var counts = cluster.Upstream.Received.Where(static r => r.PathAndQuery == "/v1/messages/count_tokens").ToArray();
        Assert.Equal(Calls, counts.Length);
        using var counted = JsonDocument.Parse(counts[0].Body);
        Assert.False(counted.RootElement.TryGetProperty("max_tokens", out _));
        Assert.False(counted.RootElement.TryGetProperty("stream", out _));
        Assert.True(counted.RootElement.TryGetProperty("messages", out _));
    }

    [Fact]
    public async Task SpendCap_CountFirst_ReservesTheWorstCase_WhenTheUpstreamCannotCount()
    {
        // Arrange: count-first, but count_tokens answers 529.
        await using var cluster = await StartAsync(static settings => settings["Gateway:Limits:UnmeasuredInput"] = "count-first");
        cluster.Upstream.CountTokensFailure = 529;
        var (secret, key) = await cluster.Environment.CreateKeyAsync(limits: """{"spendCap":1,"spendPeriod":"lifetime"}""");
        await OwnTheFileAsync(cluster, key.Id);

        // Act
        var responses = await AttackAsync(cluster, secret, ByFileId);

        // Assert: as with reserve-worst-case, one call at a time.
        var spend = await cluster.SpendAsync(key.Id, SpendPeriods.Key(SpendPeriod.Lifetime, DateTimeOffset.UtcNow));
        Assert.True(spend!.SpentMicros <= CapMicros, $"settled {spend.SpentMicros} micro-units against a cap of {CapMicros}");
        Assert.Equal(1, responses.Count(static r => r.Status == HttpStatusCode.OK));
    }

    [Fact]
    public async Task SpendCap_CountFirst_ReservesTheWorstCase_ForADocumentByUrl()
    {
        // Arrange: count-first, and a count of 1 token: a URL could answer count_tokens with a small file and the call
        // with a large one, so its count must not stand for the call's input.
        await using var cluster = await StartAsync(static settings =>
        {
            settings["Gateway:Limits:UnmeasuredInput"] = "count-first";
            settings["Gateway:Limits:InputEstimateMargin"] = "1";
        });
        cluster.Upstream.CountedInputTokens = 1;
        var (secret, key) = await cluster.Environment.CreateKeyAsync(limits: """{"spendCap":1,"spendPeriod":"lifetime"}""");

        // Act
        var responses = await AttackAsync(cluster, secret, ByUrl);

        // Assert: the context window reserved, one call at a time, and the upstream never asked to count.
        var spend = await cluster.SpendAsync(key.Id, SpendPeriods.Key(SpendPeriod.Lifetime, DateTimeOffset.UtcNow));
        Assert.True(spend!.SpentMicros <= CapMicros, $"settled {spend.SpentMicros} micro-units against a cap of {CapMicros}");
        Assert.Equal(1, responses.Count(static r => r.Status == HttpStatusCode.OK));
        Assert.DoesNotContain(cluster.Upstream.Received, static r => r.PathAndQuery == "/v1/messages/count_tokens");
    }

    private static async Task<GatewayCluster> StartAsync(Action<Dictionary<string, string?>> configure)
    {
        var cluster = await GatewayCluster.StartAsync(2, settings =>
        {
            settings["Gateway:Prices:held:Models"] = FakeAnthropicUpstream.Models.Held;
            settings["Gateway:Prices:held:Input"] = "3";
            settings["Gateway:Prices:held:Output"] = "15";
            configure(settings);
        });
        cluster.Upstream.ReportedInputTokens = BilledInput;
        return cluster;
    }

    /// <summary>Sends the eight calls at once, lets the fake answer once each is refused or held, and waits for every settlement.</summary>
    private static async Task<SpendCapConcurrencyTests.Response[]> AttackAsync(GatewayCluster cluster, string secret, string document = ByUrl)
    {
        var body = $$$"""
            {"model":"{{{FakeAnthropicUpstream.Models.Held}}}","max_tokens":100,"messages":[{"role":"user","content":[
              {{{document}}},
              {"type":"text","text":"Summarise this report."}]}]}
            """;
        var calls = Enumerable.Range(0, Calls).Select(i => SpendCapConcurrencyTests.SendAsync(cluster, i, secret, body)).ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (calls.Count(static c => c.IsCompleted) + cluster.Upstream.HeldCalls < Calls && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        cluster.Upstream.ReleaseHeld();
        var responses = await Task.WhenAll(calls);
        await cluster.WaitForIdleAsync();
        return responses;
    }
}
