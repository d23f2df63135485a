using System.Net;
using System.Text.Json;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Anthropic.Models.Messages.Batches;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using static Qhaigc.Functions.Tests.Batches.BatchArrangement;

namespace Qhaigc.Functions.Tests.Batches;

/// <summary>
/// The Message Batches API end to end with the official Anthropic C# SDK, in both hosting modes: against a fake
/// Anthropic upstream that implements batches (its <c>results_url</c> pointing at itself) and against <c>local</c>.
/// </summary>
public sealed class MessageBatchesEndToEndTests
{
    public static TheoryData<string> Modes => GatewayHosts.Modes;

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Sdk_CreatesRetrievesListsReadsCancelsAndDeletes_AgainstAnthropicUpstream(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var fake = scenario.Upstream!.Batches;
        var client = scenario.Sdk();
        var gateway = scenario.Host.BaseAddress.ToString().TrimEnd('/');

        // Act: create, then the upstream ends it.
        var created = await client.Messages.Batches.Create(Create(FakeAnthropicUpstream.Models.Text, "one", "two"));
        var inProgress = await client.Messages.Batches.Retrieve(created.ID);
        fake.End(created.ID);
        var ended = await client.Messages.Batches.Retrieve(created.ID);
        var results = new List<MessageBatchIndividualResponse>();
        await foreach (var result in client.Messages.Batches.ResultsStreaming(created.ID))
        {
            results.Add(result);
        }

        // Assert: the batch, its results through the SDK and through results_url, all at the gateway.
        Assert.StartsWith("msgbatch_", created.ID, StringComparison.Ordinal);
        Assert.Equal("in_progress", Status(created));
        Assert.Null(created.ResultsUrl);
        Assert.Equal("in_progress", Status(inProgress));
        Assert.Equal("ended", Status(ended));
        Assert.Equal($"{gateway}/v1/messages/batches/{created.ID}/results", ended.ResultsUrl);
        Assert.Equal(["req-0", "req-1"], results.Select(static r => r.CustomID).Order());
        Assert.All(results, static r => Assert.True(r.Result.TryPickSucceeded(out _)));
        using var http = scenario.Http();
        using var viaUrl = await http.SendAsync(Call(HttpMethod.Get, scenario.Secret, ended.ResultsUrl!));
        Assert.Equal(HttpStatusCode.OK, viaUrl.StatusCode);
        var lines = (await viaUrl.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.All(fake.Received, static r => Assert.Equal(FakeAnthropicUpstream.UpstreamKey, r.Headers["x-api-key"]));
        Assert.DoesNotContain(fake.Received, r => r.Headers.Values.Any(v => v.Contains(scenario.Secret, StringComparison.Ordinal)));

        // Act: two more, a page of two, the next page, and the page before the last one.
        var second = await client.Messages.Batches.Create(Create(FakeAnthropicUpstream.Models.Text, "three"));
        var third = await client.Messages.Batches.Create(Create(FakeAnthropicUpstream.Models.Text, "four"));
        var first = await client.Messages.Batches.List(new BatchListParams { Limit = 2 });
        var next = await client.Messages.Batches.List(new BatchListParams { Limit = 2, AfterID = first.Items[^1].ID });
        var before = await client.Messages.Batches.List(new BatchListParams { Limit = 2, BeforeID = created.ID });

        // Assert: newest first, Anthropic's paging, the gateway's results_url on listed items too.
        Assert.Equal([third.ID, second.ID], first.Items.Select(static b => b.ID));
        Assert.True(first.HasNext());
        Assert.Equal([created.ID], next.Items.Select(static b => b.ID));
        Assert.Equal([third.ID, second.ID], before.Items.Select(static b => b.ID));
        Assert.Equal($"{gateway}/v1/messages/batches/{created.ID}/results", Assert.Single(next.Items).ResultsUrl);

        // Act: cancel one, delete another.
        var canceling = await client.Messages.Batches.Cancel(second.ID);
        fake.End(second.ID);
        var deleted = await client.Messages.Batches.Delete(created.ID);
        var afterDelete = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => client.Messages.Batches.Retrieve(created.ID));
        var listed = await client.Messages.Batches.List(new BatchListParams { Limit = 10 });

        // Assert: the upstream canceled and deleted; the key no longer sees the deleted batch.
        Assert.Equal("canceling", Status(canceling));
        Assert.Equal(created.ID, deleted.ID);
        Assert.False(fake.Holds(created.ID));
        Assert.Equal(HttpStatusCode.NotFound, afterDelete.StatusCode);
        Assert.Equal([third.ID, second.ID], listed.Items.Select(static b => b.ID));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Sdk_RunsBatchesOnLocalUpstream_EchoingEachRequest(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false,
            configure: static settings => settings["Gateway:Local:BatchDelay"] = "00:00:01");
        var client = scenario.Sdk();
        var gateway = scenario.Host.BaseAddress.ToString().TrimEnd('/');

        // Act
        var created = await client.Messages.Batches.Create(Create("claude-sonnet-4-5", "echo these words", "and these"));
        var ended = await WaitEndedAsync(client, created.ID);
        var results = new Dictionary<string, string>();
        await foreach (var result in client.Messages.Batches.ResultsStreaming(created.ID))
        {
            Assert.True(result.Result.TryPickSucceeded(out var succeeded));
            results[result.CustomID] = string.Concat(succeeded!.Message.Content.Select(static block => (block.Value as TextBlock)?.Text));
            Assert.True(succeeded.Message.Usage.OutputTokens > 0);
        }

        var toCancel = await client.Messages.Batches.Create(Create("claude-sonnet-4-5", "never mind"));
        var canceling = await client.Messages.Batches.Cancel(toCancel.ID);
        var canceled = await WaitEndedAsync(client, toCancel.ID);
        var canceledResults = new List<MessageBatchIndividualResponse>();
        await foreach (var result in client.Messages.Batches.ResultsStreaming(toCancel.ID))
        {
            canceledResults.Add(result);
        }

        var deleted = await client.Messages.Batches.Delete(created.ID);
        var page = await client.Messages.Batches.List();

        // Assert
        Assert.Equal("in_progress", Status(created));
        Assert.Equal($"{gateway}/v1/messages/batches/{created.ID}/results", ended.ResultsUrl);
        Assert.Equal("echo these words", results["req-0"]);
        Assert.Equal("and these", results["req-1"]);
        Assert.Equal("canceling", Status(canceling));
        Assert.Equal(1, canceled.RequestCounts.Canceled);
        Assert.True(Assert.Single(canceledResults).Result.TryPickCanceled(out _));
        Assert.Equal(created.ID, deleted.ID);
        Assert.Equal([toCancel.ID], page.Items.Select(static b => b.ID));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task OtherKey_GetsSame404AsMissingId_ForEveryBatchCall(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var (otherSecret, _) = await scenario.Environment.CreateKeyAsync("other");
        var created = await scenario.Sdk().Messages.Batches.Create(Create(FakeAnthropicUpstream.Models.Text, "mine"));
        scenario.Upstream!.Batches.End(created.ID);
        using var http = scenario.Http();
        const string missing = "msgbatch_doesnotexist0000000000";
        (HttpMethod Method, string Suffix)[] calls = [(HttpMethod.Get, ""), (HttpMethod.Post, "/cancel"), (HttpMethod.Delete, ""), (HttpMethod.Get, "/results")];

        foreach (var (method, suffix) in calls)
        {
            // Act
            using var foreign = await http.SendAsync(Call(method, otherSecret, $"v1/messages/batches/{created.ID}{suffix}"));
            using var absent = await http.SendAsync(Call(method, otherSecret, $"v1/messages/batches/{missing}{suffix}"));

            // Assert: nothing tells the other key the batch exists.
            var (status, type, _, body) = await ErrorOf(foreign);
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.Equal("not_found_error", type);
            Assert.Equal((await ErrorOf(absent)).Body, body);
        }

        var othersList = await scenario.Sdk(otherSecret).Messages.Batches.List();
        var ownersList = await scenario.Sdk().Messages.Batches.List();
        var stillThere = await scenario.Sdk().Messages.Batches.Retrieve(created.ID);

        Assert.Empty(othersList.Items);
        Assert.Equal([created.ID], ownersList.Items.Select(static b => b.ID));
        Assert.Equal(created.ID, stillThere.ID);
        Assert.True(scenario.Upstream.Batches.Holds(created.ID));
        Assert.Equal($"{scenario.Host.BaseAddress.ToString().TrimEnd('/')}/v1/messages/batches/{created.ID}/results", ownersList.Items[0].ResultsUrl);
        Assert.DoesNotContain(scenario.Upstream.BaseUrl.Authority, JsonSerializer.Serialize(ownersList.Items[0].ResultsUrl), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Delete_OfAnEndedBatchNotYetSettled_RecordsEachResultFirst(string mode)
    {
        // Arrange: an ended batch whose settlement has not run (the schedule is a minute away).
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var client = scenario.Sdk();
        var created = await client.Messages.Batches.Create(Create(FakeAnthropicUpstream.Models.Text, "one", "two"));
        scenario.Upstream!.Batches.End(created.ID);

        // Act
        var deleted = await client.Messages.Batches.Delete(created.ID);

        // Assert: one record per result, as the upstream reported it, before the upstream let the results go; never
        // the whole reservation billed for a batch gone before settlement.
        var records = (await scenario.Environment.AllUsageAsync(scenario.Key.Id)).Where(static r => r.Endpoint == "messages.batch").ToList();
        Assert.Equal(created.ID, deleted.ID);
        Assert.False(scenario.Upstream.Batches.Holds(created.ID));
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal(created.ID, r.BatchId));
        Assert.All(records, static r => Assert.False(r.Estimated));
        Assert.All(records, static r => Assert.True(r.OutputTokens > 0));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Records_NameTheModelTheClientAsked_WhenModelMapRenamedIt(string mode)
    {
        // Arrange: "claude-alias" goes upstream as the fake's model, whose results name a model of their own.
        await using var scenario = await GatewayScenario.StartAsync(mode,
            configure: static settings => settings["Gateway:Upstreams:anthropic:ModelMap:claude-alias"] = FakeAnthropicUpstream.Models.Text);
        var client = scenario.Sdk();
        var created = await client.Messages.Batches.Create(Create("claude-alias", "one", "two"));
        scenario.Upstream!.Batches.End(created.ID);

        // Act: deleting an ended batch records its results first.
        await client.Messages.Batches.Delete(created.ID);

        // Assert: as a call's record does, each result's names the client's model, and the model it was served and priced as.
        var records = (await scenario.Environment.AllUsageAsync(scenario.Key.Id)).Where(static r => r.Endpoint == "messages.batch").ToList();
        Assert.Equal(2, records.Count);
        Assert.All(records, static r => Assert.Equal(("claude-alias", FakeAnthropicUpstream.Models.Text), (r.Model, r.UpstreamModel)));
    }
}
