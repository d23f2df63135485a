using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// The one governance service the API and admin layers take: the authorize step, a key's limits, the prices, and the
/// state of this instance's reservations. It only forwards; each job is its own type (<see cref="AdmissionService"/>,
/// <see cref="SettlementService"/>, <see cref="ReservationRenewer"/>, <see cref="GovernanceLifecycle"/>), and
/// docs/limits-and-prices.md describes them.
/// </summary>
public sealed class GovernanceService(AdmissionService admission, SettlementService settlements, ReservationRegistry reservations, PriceTable prices)
{
    public PriceTable Prices => prices;

    /// <summary>Calls admitted on this instance whose reservation is not settled yet.</summary>
    public int ActiveReservations => reservations.Count;

    /// <summary>Settlements started and not finished (written or given up on).</summary>
    public long PendingSettlements => settlements.Pending;

    /// <summary>
    /// Admits a call or says why not (<see cref="AdmissionService.AdmitAsync"/>), priced at the models its routes would
    /// send upstream; <paramref name="counter"/> counts input exactly for <c>count-first</c>.
    /// </summary>
    public ValueTask<Admission> AdmitAsync(
        ApiKey key, string requestId, MessagesRequest messages, IReadOnlyList<UpstreamRoute> routes, IInputTokenCounter? counter = null) =>
        admission.AdmitAsync(key, requestId, messages, ServedModels(routes), counter);

    private static string[] ServedModels(IReadOnlyList<UpstreamRoute> routes)
    {
        var models = new string[routes.Count];
        for (var i = 0; i < models.Length; i++)
        {
            models[i] = routes[i].UpstreamModel;
        }

        return models;
    }

    /// <inheritdoc cref="AdmissionService.LimitsOf"/>
    public KeyLimits? LimitsOf(ApiKey key) => admission.LimitsOf(key);

    /// <inheritdoc cref="SettlementService.WaitForIdleAsync"/>
    public Task WaitForIdleAsync(CancellationToken cancellationToken) => settlements.WaitForIdleAsync(cancellationToken);
}
