namespace Qhaigc.Functions.Governance;

/// <summary>
/// The limit ledger: the shared counters behind every limit, in the limits table (Table Storage in production). The
/// usage records are elsewhere, in the usage table (<see cref="Usage.IUsageStore"/>). Each operation is atomic across
/// instances. Every method throws <see cref="Storage.StorageUnavailableException"/> when storage cannot answer, and
/// <see cref="LimitContentionException"/> when other instances kept changing the same counters.
/// </summary>
public interface ILimitLedger
{
    /// <summary>Admits a call and reserves what it may use, or says which limit refuses it.</summary>
    Task<AdmissionOutcome> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken);

    /// <summary>Replaces a call's reservation with what it really used.</summary>
    Task SettleAsync(Reserved reserved, ActualUse actual, CancellationToken cancellationToken);

    /// <summary>
    /// Settles a reservation once and for all: the first call replaces it with <paramref name="actual"/> and leaves a
    /// mark under its request id, in the same transaction; any later call with that request id (a rerun after a crash,
    /// another instance) changes nothing and returns false. For holds without a window charge or a stream slot (a
    /// message batch's, docs/batches.md#billing). If the hold was swept meanwhile, only the cost is added.
    /// </summary>
    Task<bool> SettleOnceAsync(Reserved reserved, ActualUse actual, CancellationToken cancellationToken);

    /// <summary>Pushes a running call's hold expiry out; false when the hold is gone (settled or swept).</summary>
    Task<bool> RenewAsync(Reserved reserved, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>
    /// Restarts the current period's spend counter from the costs in the usage table (keeping the reservations of
    /// running calls): for a key that gets a spend cap, or a new cap period, after running without one.
    /// </summary>
    Task ResetSpendAsync(string keyId, KeyLimits limits, DateTimeOffset now, DateTimeOffset keyCreatedAt, CancellationToken cancellationToken);

    /// <summary>
    /// Counts one call in the key's per-minute counter <paramref name="counter"/> (<see cref="LimitWindowEntity.Row"/>, the
    /// window admissions count requests in, or a counter of its own such as <see cref="LimitWindowEntity.CountTokensRow"/>),
    /// unless it already holds <paramref name="limit"/> calls this minute.
    /// </summary>
    Task<WindowCount> CountAsync(string keyId, string counter, long limit, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The counters as they stand, for the admin API.</summary>
    Task<LimitUsage> ReadAsync(string keyId, KeyLimits limits, DateTimeOffset now, CancellationToken cancellationToken);
}
