using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Qhaigc.Functions.Batches;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using static Qhaigc.Functions.Tests.Batches.BatchArrangement;

namespace Qhaigc.Functions.Tests.Batches;

/// <summary>
/// What the gateway keeps of each batch in the objects table (Azurite), what settlement reads through
/// <see cref="IBatchUpstream"/>, and upstream errors relayed as they came.
/// </summary>
public sealed class MessageBatchesOwnershipTests
{
    [Fact]
    public async Task Create_RecordsThePendingBatchAsTheKeys_AndDeleteHidesItUntilSettled()
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone);
        var client = scenario.Sdk();
        var objects = scenario.Environment.Objects;

        // Act
        var created = await client.Messages.Batches.Create(Create(FakeAnthropicUpstream.Models.Text, "a", "b", "c"));
        var stored = await objects.FindAsync(scenario.Key.Id, OwnedKinds.Batch, created.ID, CancellationToken.None);
        scenario.Upstream!.Batches.End(created.ID);
        await client.Messages.Batches.Delete(created.ID);
        var afterDelete = await objects.FindAsync(scenario.Key.Id, OwnedKinds.Batch, created.ID, CancellationToken.None);

        // Assert: owned by the key, on the deployment, pending settlement; the delete settled it first, then removed it.
        Assert.NotNull(stored);
        Assert.Equal("anthropic", stored.Upstream);
        Assert.Equal(created.ID, stored.UpstreamId);
        Assert.True(stored.Pending);
        var state = BatchStates.Read(stored.State);
        Assert.Equal(3, state.RequestCount);
        Assert.Equal(["fake-text"], state.Models);
        Assert.Equal("in_progress", state.ProcessingStatus);
        Assert.DoesNotContain("req-0", stored.State!, StringComparison.Ordinal);
        Assert.Null(afterDelete);
        Assert.Equal(3, (await scenario.Environment.AllUsageAsync(scenario.Key.Id)).Count(static r => r.Endpoint == "messages.batch"));
        Assert.Empty((await client.Messages.Batches.List()).Items);
    }

    [Fact]
    public async Task BatchUpstream_ReadsBatchesAndResults_ForSettlement()
    {
        // Arrange
        var environment = await GatewayTestEnvironment.CreateAsync();
        await using var upstream = await FakeAnthropicUpstream.StartAsync();
        var (secret, _) = await environment.CreateKeyAsync();
        await using var host = await StandaloneGatewayHost.StartAsync(environment.Settings(upstream.GatewaySettings()));
        var client = new Anthropic.AnthropicClient { ApiKey = secret, BaseUrl = host.BaseAddress.ToString().TrimEnd('/'), MaxRetries = 0 };
        var created = await client.Messages.Batches.Create(Create(FakeAnthropicUpstream.Models.Text, "one", "two"));
        upstream.Batches.End(created.ID);
        var batches = host.Services.GetRequiredService<IBatchUpstream>();

        // Act
        var batch = await batches.RetrieveAsync("anthropic", created.ID, CancellationToken.None);
        var missing = await batches.RetrieveAsync("anthropic", "msgbatch_gone", CancellationToken.None);
        string results;
        await using (var stream = await batches.OpenResultsAsync("anthropic", created.ID, CancellationToken.None))
        using (var reader = new StreamReader(stream))
        {
            results = await reader.ReadToEndAsync();
        }

        // Assert
        using var document = JsonDocument.Parse(batch!);
        Assert.Equal("ended", document.RootElement.GetProperty("processing_status").GetString());
        Assert.Null(missing);
        Assert.Equal(2, results.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Delete_OfABatchStillProcessing_IsRefusedBeforeTheUpstream()
    {
        // Arrange: a batch that has not ended (Anthropic deletes only ended batches; deleting one that ends meanwhile would
        // lose its results before settlement recorded them).
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone);
        var created = await scenario.Sdk().Messages.Batches.Create(Create(FakeAnthropicUpstream.Models.Text, "still running"));
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(Call(HttpMethod.Delete, scenario.Secret, $"v1/messages/batches/{created.ID}"));

        // Assert
        var error = await ErrorOf(response);
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal("invalid_request_error", error.Type);
        Assert.Contains("is still processing and cannot be deleted", error.Message, StringComparison.Ordinal);
        Assert.True(scenario.Upstream!.Batches.Holds(created.ID));
        Assert.NotNull(await scenario.Environment.Objects.FindAsync(scenario.Key.Id, OwnedKinds.Batch, created.ID, CancellationToken.None));
        Assert.Equal(created.ID, (await scenario.Sdk().Messages.Batches.Retrieve(created.ID)).ID);
        Assert.Contains("still running", Encoding.UTF8.GetString(scenario.Upstream.Batches.Received[0].Body), StringComparison.Ordinal);
    }
}
