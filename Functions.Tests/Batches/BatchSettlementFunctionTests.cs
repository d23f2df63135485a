using Qhaigc.Functions.Batches;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Tests.HostEmulation;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Batches;

/// <summary>The timer function under the emulated Functions host: the host fires it, the worker runs settlement.</summary>
public sealed class BatchSettlementFunctionTests
{
    [Fact]
    public async Task BatchSettlement_FiredByTheHostsTimer_RunsSettlementInTheWorker()
    {
        // Arrange: a batch whose settlement finished all but its last write (still pending, state settled): the run
        // completes it without the upstream.
        var environment = await GatewayTestEnvironment.CreateAsync();
        var batch = new OwnedObject
        {
            Kind = OwnedKinds.Batch,
            Id = "msgbatch_timer",
            OwnerKeyId = "key_0000000000000timer",
            Upstream = "anthropic",
            UpstreamId = "msgbatch_up_timer",
            CreatedAt = DateTimeOffset.UtcNow,
            Pending = true,
            State = BatchStates.Write(new BatchState { ProcessingStatus = "ended", SettledAt = DateTimeOffset.UtcNow }),
        };
        Assert.True(await environment.Objects.AddAsync(batch, CancellationToken.None));
        await using var host = await FunctionsGatewayHost.StartAsync(environment.Settings(), telemetry: false);

        // Act
        var (status, error) = await host.InvokeTimerAsync("BatchSettlement", CancellationToken.None);

        // Assert
        Assert.True(status == "Success", $"{status}: {error}{Environment.NewLine}{host.CapturedLogs}");
        var after = await environment.Objects.FindAsync(batch.OwnerKeyId, OwnedKinds.Batch, batch.Id, CancellationToken.None);
        Assert.False(after!.Pending);
    }
}
