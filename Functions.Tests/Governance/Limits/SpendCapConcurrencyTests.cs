using System.Net;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>
/// Spend caps against Azurite with three gateway instances sharing the tables: N concurrent calls against a cap that
/// allows K &lt; N. Every fake-text stream reports as many input tokens as its request reserves (<see cref="Input"/>,
/// the hard bound of its text) and 15 output tokens.
/// </summary>
public sealed class SpendCapConcurrencyTests
{
    private const int Instances = 3;
    private const int Calls = 12;

    private static readonly string Body15 = Prompts.Body(FakeAnthropicUpstream.Models.Text, Prompts.TextEstimatedAt(25), maxTokens: 15, stream: true);

    /// <summary>The input tokens each call reserves and the fake reports.</summary>
    internal static readonly long Input = Prompts.ReservedInputOf(Body15);

    /// <summary>The input tokens at 2 and 15 output tokens at 10 per million.</summary>
    internal static readonly long CallCostMicros = (Input * 2) + (15 * 10);

    [Fact]
    public async Task SpendCap_ConcurrentCallsOnSeveralInstances_ExactlyTheCallsThatFitSucceed()
    {
        // Arrange: the reservation equals the real cost (the fake reports the input's bound, max_tokens = the 15 tokens
        // the fake writes), so whatever the interleaving, exactly cap / cost calls fit.
        await using var cluster = await StartAsync(Instances);
        var (secret, key) = await cluster.Environment.CreateKeyAsync(limits: SpendCap(5 * CallCostMicros));
        var body = Body15;

        // Act
        var responses = await Task.WhenAll(Enumerable.Range(0, Calls).Select(i => SendAsync(cluster, i, secret, body)));
        await cluster.WaitForIdleAsync();

        // Assert: K = 5 calls succeed, the rest get 402 billing_error that SDKs do not retry.
        Assert.Equal(5, responses.Count(static r => r.Status == HttpStatusCode.OK));
        var refused = responses.Where(static r => r.Status != HttpStatusCode.OK).ToArray();
        Assert.Equal(Calls - 5, refused.Length);
        Assert.All(refused, static r =>
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, r.Status);
            Assert.Contains("\"billing_error\"", r.Body, StringComparison.Ordinal);
            Assert.Equal("false", r.ShouldRetry);
        });
        var spend = await cluster.SpendAsync(key.Id, SpendPeriods.Key(SpendPeriod.Month, DateTimeOffset.UtcNow));
        Assert.Equal(5 * CallCostMicros, spend!.SpentMicros);
        Assert.Equal(0, spend.ReservedMicros);
        var records = await cluster.WaitForRecordsAsync(key.Id, Calls);
        Assert.Equal(Calls, records.Count);
        Assert.Equal(5 * CallCostMicros / 1_000_000m, records.Sum(static r => r.Cost ?? 0));
    }

    [Fact]
    public async Task SpendCap_CallsReserveMoreThanTheyCost_SettledSpendNeverExceedsTheCap()
    {
        // Arrange: max_tokens 100 reserves 850 micro-units more than the call costs. Calls keep being admitted while
        // settled + reserved + reservation <= cap: with a cap of 9 costs + 1 reservation + 150, exactly 10 calls over
        // the key's life, whatever runs concurrently.
        await using var cluster = await StartAsync(Instances);
        var body = Prompts.Body(FakeAnthropicUpstream.Models.Text, Prompts.TextEstimatedAt(25), maxTokens: 100, stream: true);
        var reservation = (Input * 2) + (100 * 10);
        var cap = (9 * CallCostMicros) + reservation + 150;
        var (secret, key) = await cluster.Environment.CreateKeyAsync(limits: SpendCap(cap));

        // Act: a concurrent burst, then one call at a time until the cap refuses.
        var burst = await Task.WhenAll(Enumerable.Range(0, Calls).Select(i => SendAsync(cluster, i, secret, body)));
        await cluster.WaitForIdleAsync();
        var spentAfterBurst = (await cluster.SpendAsync(key.Id, SpendPeriods.Key(SpendPeriod.Month, DateTimeOffset.UtcNow)))!.SpentMicros;
        var sequential = new List<Response>();
        for (var i = 0; i < Calls; i++)
        {
            var response = await SendAsync(cluster, i, secret, body);
            sequential.Add(response);
            await cluster.WaitForIdleAsync();
            if (response.Status != HttpStatusCode.OK)
            {
                break;
            }
        }

        // Assert
        var succeeded = burst.Concat(sequential).Count(static r => r.Status == HttpStatusCode.OK);
        Assert.InRange(burst.Count(static r => r.Status == HttpStatusCode.OK), 2, 10);
        Assert.True(spentAfterBurst <= cap);
        Assert.Equal(10, succeeded);
        Assert.Equal(HttpStatusCode.PaymentRequired, sequential[^1].Status);
        var spend = await cluster.SpendAsync(key.Id, SpendPeriods.Key(SpendPeriod.Month, DateTimeOffset.UtcNow));
        Assert.Equal(10 * CallCostMicros, spend!.SpentMicros);
        Assert.True(spend.SpentMicros <= cap);
        Assert.Equal(0, spend.ReservedMicros);
    }

    [Fact]
    public async Task SpendCap_Lifetime_CountsSpendRecordedBeforeTheCapWasSet()
    {
        // Arrange: a prepaid key that already spent 3 calls' worth before it got a lifetime cap of 4 calls.
        await using var cluster = await StartAsync(1);
        var (secret, key) = await cluster.Environment.CreateKeyAsync();
        var body = Body15;
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(cluster, 0, secret, body)).Status);
        }

        Assert.Equal(3, (await cluster.WaitForRecordsAsync(key.Id, 3)).Count);
        Assert.True(await cluster.Environment.Keys.UpdateAsync(key with { LimitsJson = SpendCap(4 * CallCostMicros, "lifetime") }, default));
        await using var fresh = await StandaloneGatewayHost.StartAsync(cluster.Environment.Settings(cluster.Upstream.GatewaySettings().Concat(PriceSettings())));
        using var http = RawClient.Create(fresh.BaseAddress);

        // Act
        using var fourth = await http.SendAsync(RawClient.Messages(secret, body));
        await fourth.Content.ReadAsStringAsync();
        using var fifth = await http.SendAsync(RawClient.Messages(secret, body));

        // Assert
        Assert.Equal(HttpStatusCode.OK, fourth.StatusCode);
        await GatewayAssert.ErrorAsync(fifth, 402, "billing_error");
        Assert.Equal("0", RawClient.Header(fifth, RateLimitHeaders.SpendRemaining));
        Assert.Null(RawClient.Header(fifth, RateLimitHeaders.SpendReset));
    }

    /// <summary>A cluster whose fake reports each call's reserved input (<see cref="Input"/>) as its input tokens.</summary>
    internal static async Task<GatewayCluster> StartAsync(int instances)
    {
        var cluster = await GatewayCluster.StartAsync(instances, Prices);
        cluster.Upstream.ReportedInputTokens = Input;
        return cluster;
    }

    /// <summary>A limits object with a spend cap of so many micro-units.</summary>
    internal static string SpendCap(long micros, string period = "month") =>
        $$"""{"spendCap":{{(micros / 1_000_000m).ToString(System.Globalization.CultureInfo.InvariantCulture)}},"spendPeriod":"{{period}}"}""";

    internal static void Prices(Dictionary<string, string?> settings)
    {
        foreach (var (name, value) in PriceSettings())
        {
            settings[name] = value;
        }
    }

    internal static IEnumerable<KeyValuePair<string, string?>> PriceSettings() =>
    [
        new("Gateway:Prices:fake-text:Input", "2"),
        new("Gateway:Prices:fake-text:Output", "10"),
        new("Gateway:Prices:Version", "test-prices-1"),
        new("Gateway:Limits:InputEstimateMargin", "1"),
    ];

    internal static async Task<Response> SendAsync(GatewayCluster cluster, int instance, string secret, string body)
    {
        using var http = cluster.Http(instance);
        using var response = await http.SendAsync(RawClient.Messages(secret, body));
        return new Response(response.StatusCode, await response.Content.ReadAsStringAsync(), RawClient.Header(response, "x-should-retry"),
            response.Headers.ToDictionary(static h => h.Key.ToLowerInvariant(), static h => string.Join(',', h.Value), StringComparer.Ordinal));
    }

    internal sealed record Response(HttpStatusCode Status, string Body, string? ShouldRetry, IReadOnlyDictionary<string, string> Headers);
}
