using Microsoft.Azure.Functions.Worker;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// Functions-mode settlement of message batches, on the schedule of the app setting <c>Gateway:Batches:SettleSchedule</c>
/// (named <c>Gateway__Batches__SettleSchedule</c> in Azure; docs/configuration.md#message-batches).
/// </summary>
public sealed class BatchSettlementFunction(BatchSettlement settlement)
{
    [Function("BatchSettlement")]
    public Task Run([TimerTrigger("%" + BatchSettlementOptions.SettleScheduleSetting + "%")] TimerInfo timer, CancellationToken cancellationToken) =>
        settlement.RunAsync(cancellationToken);
}
