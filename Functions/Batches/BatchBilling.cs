using System.Text.Json;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// Provisional: batches run for keys without a spend cap only, with nothing reserved; a capped key's batch is refused
/// until batch reservations are in place.
/// </summary>
public sealed class BatchBilling(GovernanceService governance) : IBatchBilling
{
    public BatchCostTally StartTally(ApiKey key) => new NothingTally();

    public Task<BatchAdmission> ReserveAsync(ApiKey key, string batchId, BatchCostTally tally, CancellationToken cancellationToken) =>
        Task.FromResult(governance.LimitsOf(key) is { SpendCapMicros: not null }
            ? new BatchAdmission(null, ApiError.From(ApiErrorKind.Permission, "Message batches are not available to keys with a spend cap."))
            : new BatchAdmission(null, null));

    public Task ReleaseAsync(BatchAdmission admission, CancellationToken cancellationToken) => Task.CompletedTask;

    private sealed class NothingTally : BatchCostTally
    {
        public override long WorstCaseMicros => 0;

        public override ApiError? Add(JsonElement request, string servedModel, string? anthropicBeta) => null;
    }
}
