using System.Net;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Tests.Governance;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Usage;

/// <summary>
/// A client that leaves before any usage comes back still owes what the upstream bills: the whole prompt
/// (docs/usage-records.md#abandoned-calls). Against Azurite, with a capped key, so the spend counter shows it too.
/// </summary>
public sealed class AbandonedCallTests
{
    /// <summary>The prompt's input estimate, at 3 per million.</summary>
    private const int InputEstimate = 25;
    private const long InputCostMicros = InputEstimate * 3;

    [Fact]
    public async Task Record_BillsTheInputEstimate_WhenTheClientLeavesBeforeTheAnswer()
    {
        // Arrange: the upstream has the request and holds its answer.
        await using var cluster = await StartAsync();
        var (secret, key) = await cluster.Environment.CreateKeyAsync(limits: """{"spendCap":10}""");
        var body = Prompts.Body(FakeAnthropicUpstream.Models.Held, Prompts.TextEstimatedAt(InputEstimate), maxTokens: 100, stream: false);

        // Act: the client leaves while the upstream works.
        var record = await LeaveWhileHeldAsync(cluster, secret, key.Id, body);

        // Assert
        Assert.Equal(UsageState.Cancelled, record.State);
        Assert.Equal(InputEstimate, record.InputTokens);
        Assert.Equal(0, record.OutputTokens);
        Assert.True(record.Estimated);
        Assert.Equal(InputCostMicros / 1_000_000m, record.Cost);
        var spend = await cluster.SpendAsync(key.Id, SpendPeriods.Key(SpendPeriod.Month, DateTimeOffset.UtcNow));
        Assert.Equal(InputCostMicros, spend!.SpentMicros);
        Assert.Equal(0, spend.ReservedMicros);
    }

    [Fact]
    public async Task Record_BillsTheInputEstimate_WhenTheClientLeavesAStreamBeforeItsFirstEvent()
    {
        // Arrange: the upstream sends its headers and no event; the gateway answers 200 and keeps the client alive.
        await using var cluster = await StartAsync(static settings => settings["Gateway:Streaming:FirstEventTimeout"] = "00:00:00.100");
        var (secret, key) = await cluster.Environment.CreateKeyAsync(limits: """{"spendCap":10}""");
        var body = Prompts.Body(FakeAnthropicUpstream.Models.SilentStart, Prompts.TextEstimatedAt(InputEstimate), maxTokens: 100, stream: true);
        using var http = cluster.Http(0);

        // Act: the stream starts, then the client leaves before any event.
        using (var response = await http.SendAsync(RawClient.Messages(secret, body), HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var record = await RecordAsync(cluster, key.Id);

        // Assert
        Assert.Equal(UsageState.Cancelled, record.State);
        Assert.Equal(InputEstimate, record.InputTokens);
        Assert.True(record.Estimated);
        Assert.Equal(InputCostMicros / 1_000_000m, record.Cost);
    }

    [Fact]
    public async Task Record_BillsTheContextWindow_WhenTheClientLeavesACallWithADocumentByUrl()
    {
        // Arrange: a document by URL, which the tokenizer estimates at a flat few thousand tokens but the upstream may
        // bill at up to its context window (200,000 tokens by default); a cap that fits the call's reservation.
        await using var cluster = await StartAsync();
        var (secret, key) = await cluster.Environment.CreateKeyAsync(limits: """{"spendCap":10}""");
        var body = $$$"""
            {"model":"{{{FakeAnthropicUpstream.Models.Held}}}","max_tokens":100,"messages":[{"role":"user","content":[
              {"type":"document","source":{"type":"url","url":"https://example.com/annual-report.pdf"}},
              {"type":"text","text":"Summarise this report."}]}]}
            """;

        // Act: the client leaves while the upstream works, as it could again and again.
        var record = await LeaveWhileHeldAsync(cluster, secret, key.Id, body);

        // Assert: billed the most the upstream can bill for it, not a flat estimate.
        Assert.Equal(UsageState.Cancelled, record.State);
        Assert.Equal(200_000, record.InputTokens);
        Assert.True(record.Estimated);
        Assert.Equal(200_000 * 3 / 1_000_000m, record.Cost);
    }

    [Fact]
    public async Task Record_BillsNothing_WhenTheUpstreamAnsweredWithAnErrorBeforeTheClientLeft()
    {
        // Arrange: the upstream refuses the request (a 400 it does not bill).
        await using var cluster = await StartAsync();
        var (secret, key) = await cluster.Environment.CreateKeyAsync(limits: """{"spendCap":10}""");
        var body = Prompts.Body(FakeAnthropicUpstream.Models.BadRequest, Prompts.TextEstimatedAt(InputEstimate), maxTokens: 100, stream: false);
        using var http = cluster.Http(0);

        // Act
        using var response = await http.SendAsync(RawClient.Messages(secret, body));
        var record = await RecordAsync(cluster, key.Id);

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(UsageState.Failed, record.State);
        Assert.Equal(0, record.InputTokens);
        Assert.False(record.Estimated);
    }

    private static Task<GatewayCluster> StartAsync(Action<Dictionary<string, string?>>? configure = null) =>
        GatewayCluster.StartAsync(1, settings =>
        {
            settings["Gateway:Prices:fakes:Models"] = "fake-*";
            settings["Gateway:Prices:fakes:Input"] = "3";
            settings["Gateway:Prices:fakes:Output"] = "15";
            configure?.Invoke(settings);
        });

    private static async Task<UsageRecord> RecordAsync(GatewayCluster cluster, string keyId)
    {
        var record = Assert.Single(await cluster.WaitForRecordsAsync(keyId, 1));
        await cluster.WaitForIdleAsync();
        return record;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    /// <summary>Sends a call the upstream holds, leaves once the upstream has it, and returns its usage record.</summary>
    private static async Task<UsageRecord> LeaveWhileHeldAsync(GatewayCluster cluster, string secret, string keyId, string body)
    {
        using var http = cluster.Http(0);
        using var leave = new CancellationTokenSource();
        var call = http.SendAsync(RawClient.Messages(secret, body), leave.Token);
        await WaitUntilAsync(() => cluster.Upstream.HeldCalls == 1);
        await leave.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        return await RecordAsync(cluster, keyId);
    }
}
