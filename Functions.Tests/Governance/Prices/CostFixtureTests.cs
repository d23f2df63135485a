using System.Net;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>
/// Costs in usage records over recorded fixtures, end to end: every kind of token, streams cut by the upstream, calls
/// cancelled by the client. The expected cost is worked out here from the record's own token counts.
/// </summary>
public sealed class CostFixtureTests
{
    // Prices per million tokens, chosen so that every kind has its own.
    private const decimal Input = 3m;
    private const decimal Output = 15m;
    private const decimal Write5m = 3.75m;
    private const decimal Write1h = 6m;
    private const decimal Read = 0.3m;

    public static TheoryData<string, bool, UsageState> Fixtures => new()
    {
        { FakeAnthropicUpstream.Models.Text, false, UsageState.Complete },
        { FakeAnthropicUpstream.Models.Text, true, UsageState.Complete },
        { FakeAnthropicUpstream.Models.ToolUse, false, UsageState.Complete },
        { FakeAnthropicUpstream.Models.ToolUse, true, UsageState.Complete },
        { FakeAnthropicUpstream.Models.Thinking, true, UsageState.Complete },
        { FakeAnthropicUpstream.Models.MidStreamError, true, UsageState.Truncated },
        { FakeAnthropicUpstream.Models.Cut, true, UsageState.Truncated },
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task UsageRecord_Cost_IsEveryKindOfTokenAtItsPrice(string model, bool stream, UsageState state)
    {
        // Arrange
        await using var cluster = await GatewayCluster.StartAsync(1, AllFakeModelsPriced);
        var (secret, key) = await cluster.Environment.CreateKeyAsync();
        using var http = cluster.Http(0);

        // Act
        using (var response = await http.SendAsync(RawClient.Messages(secret, RawClient.Body(model, stream))))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await response.Content.ReadAsStringAsync();
        }

        var record = Assert.Single(await cluster.WaitForRecordsAsync(key.Id, 1));

        // Assert
        Assert.Equal(state, record.State);
        Assert.True(record.InputTokens + record.OutputTokens > 0);
        Assert.Equal(Expected(record), record.Cost);
        Assert.Equal("EUR", record.Currency);
        Assert.Equal("test-prices-2", record.PriceVersion);
    }

    [Fact]
    public async Task UsageRecord_Cost_OfTheFixtureWithEveryKindOfToken_IsExact()
    {
        // Arrange: text.json reports 25 input, 15 output, 100 cache writes (60 for 5 minutes, 40 for 1 hour), 2000 reads.
        await using var cluster = await GatewayCluster.StartAsync(1, AllFakeModelsPriced);
        var (secret, key) = await cluster.Environment.CreateKeyAsync();
        using var http = cluster.Http(0);

        // Act
        using (var response = await http.SendAsync(RawClient.Messages(secret, RawClient.Body(FakeAnthropicUpstream.Models.Text))))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var record = Assert.Single(await cluster.WaitForRecordsAsync(key.Id, 1));

        // Assert: 75 + 225 + 225 + 240 + 600 = 1365 micro-units.
        Assert.Equal(0.001365m, record.Cost);
    }

    [Fact]
    public async Task UsageRecord_Cost_OfACallCancelledByTheClient_CountsTheTokensSoFar()
    {
        // Arrange: a stream that holds after its first events; the client leaves.
        await using var cluster = await GatewayCluster.StartAsync(1, AllFakeModelsPriced);
        var (secret, key) = await cluster.Environment.CreateKeyAsync(limits: """{"spendCap":100}""");
        using var http = cluster.Http(0);
        using var request = RawClient.Messages(secret, RawClient.Body(FakeAnthropicUpstream.Models.Paced, stream: true));

        // Act
        using (var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync();
            await body.ReadAtLeastAsync(new byte[64], 1);
        }

        await cluster.Upstream.StreamAborted.WaitAsync(TimeSpan.FromSeconds(15));
        var record = await WaitForRecordAsync(cluster, key.Id);
        await cluster.WaitForIdleAsync();
        var spend = await cluster.SpendAsync(key.Id, SpendPeriods.Key(SpendPeriod.Month, DateTimeOffset.UtcNow));

        // Assert: the record's tokens at their prices, and the spend counter settled to exactly that.
        Assert.Equal(UsageState.Cancelled, record.State);
        Assert.True(record.InputTokens > 0);
        Assert.Equal(Expected(record), record.Cost);
        Assert.Equal(Money.ToMicros(record.Cost!.Value), spend!.SpentMicros);
        Assert.Equal(0, spend.ReservedMicros);
    }

    internal static void AllFakeModelsPriced(Dictionary<string, string?> settings)
    {
        settings["Gateway:Prices:fakes:Models"] = "fake-*";
        settings["Gateway:Prices:fakes:Input"] = Input.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:Prices:fakes:Output"] = Output.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:Prices:fakes:CacheWrite5m"] = Write5m.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:Prices:fakes:CacheWrite1h"] = Write1h.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:Prices:fakes:CacheRead"] = Read.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:Prices:Currency"] = "EUR";
        settings["Gateway:Prices:Version"] = "test-prices-2";
    }

    /// <summary>The cost worked out independently of the gateway's code: each kind times its price, rounded once.</summary>
    private static decimal Expected(UsageRecord record)
    {
        var oneHour = record.CacheCreation1hInputTokens ?? 0;
        var fiveMinutes = record.CacheCreationInputTokens - oneHour;
        var micros = (record.InputTokens * Input) + (record.OutputTokens * Output) + (fiveMinutes * Write5m) + (oneHour * Write1h) +
                     (record.CacheReadInputTokens * Read);
        return decimal.Round(micros, MidpointRounding.AwayFromZero) / 1_000_000m;
    }

    private static async Task<UsageRecord> WaitForRecordAsync(GatewayCluster cluster, string keyId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            if ((await cluster.Environment.AllUsageAsync(keyId)).FirstOrDefault() is { } record)
            {
                return record;
            }

            Assert.True(DateTime.UtcNow < deadline, "no usage record");
            await Task.Delay(50);
        }
    }
}
