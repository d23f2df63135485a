using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Keys;

namespace Qhaigc.Functions.Admin.Keys;

/// <summary>
/// A key's counters as they stand (<see cref="LimitState"/>), as <c>GET /manage/keys/{id}</c> and the key's own
/// <c>GET /v1/gateway/key</c> both show them; null for a key without limits.
/// </summary>
public static class KeyCounters
{
    public static async Task<LimitState?> ReadAsync(
        GovernanceService governance, ILimitLedger ledger, ApiKey key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (governance.LimitsOf(key) is not { IsEmpty: false } limits)
        {
            return null;
        }

        var usage = await ledger.ReadAsync(key.Id, limits, now, cancellationToken);
        return new LimitState
        {
            Requests = usage.Requests,
            InputTokens = usage.InputTokens,
            OutputTokens = usage.OutputTokens,
            WindowReset = AdmissionPolicy.WindowStart(now) + AdmissionPolicy.Window,
            SpendPeriod = SpendPeriods.Key(limits.SpendPeriod, now),
            Spent = Money.FromMicros(usage.SpentMicros),
            Reserved = Money.FromMicros(usage.ReservedMicros),
            Currency = governance.Prices.Currency,
            ActiveStreams = usage.ActiveStreams,
        };
    }
}
