using Qhaigc.Functions.Keys;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// A batch's money: its worst case reserved against the key's spend cap when it is created, at batch prices
/// (docs/batches.md#billing), and given back if the upstream refuses it.
/// </summary>
public interface IBatchBilling
{
    /// <summary>A new tally of a batch's worst case, to which the creator adds each request as it validates it.</summary>
    BatchCostTally StartTally(ApiKey key);

    /// <summary>Reserves the tally's worst case for the batch <paramref name="batchId"/>, atomically against the key's cap.</summary>
    Task<BatchAdmission> ReserveAsync(ApiKey key, string batchId, BatchCostTally tally, CancellationToken cancellationToken);

    /// <summary>Gives a reservation back whole: the upstream never took the batch.</summary>
    Task ReleaseAsync(BatchAdmission admission, CancellationToken cancellationToken);
}
