using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Ownership;

namespace Qhaigc.Functions.Admin.Keys;

/// <summary>
/// A key's counters as they stand (<see cref="LimitState"/>), as <c>GET /manage/keys/{id}</c> and the key's own
/// <c>GET /v1/gateway/key</c> both show them; null for a key without limits.
/// </summary>
public static class KeyCounters
{
    public static async Task<LimitState?> ReadAsync(
        GovernanceService governance, ILimitLedger ledger, IOwnedObjectStore objects, ApiKey key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (governance.LimitsOf(key) is not { } limits || (limits.IsEmpty && limits.MaxFiles is null && limits.MaxFileBytes is null))
        {
            return null;
        }

        LimitUsage? usage = limits.IsEmpty ? null : await ledger.ReadAsync(key.Id, limits, now, cancellationToken);
        FileHoldings? files = limits.MaxFiles is null && limits.MaxFileBytes is null ? null : await objects.FileHoldingsAsync(key.Id, cancellationToken);
        return new LimitState
        {
            Requests = usage?.Requests ?? 0,
            InputTokens = usage?.InputTokens ?? 0,
            OutputTokens = usage?.OutputTokens ?? 0,
            WindowReset = AdmissionPolicy.WindowStart(now) + AdmissionPolicy.Window,
            SpendPeriod = SpendPeriods.Key(limits.SpendPeriod, now),
            Spent = Money.FromMicros(usage?.SpentMicros ?? 0),
            Reserved = Money.FromMicros(usage?.ReservedMicros ?? 0),
            Currency = governance.Prices.Currency,
            ActiveStreams = usage?.ActiveStreams ?? 0,
            FilesHeld = files?.Count,
            FileBytesHeld = files?.Bytes,
        };
    }
}
