using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>
/// The governance parts of one gateway instance, wired as the gateway wires them but over the in-memory limit ledger
/// and a fake clock, with default options: for unit tests of admission, settlement and renewal, no host and no
/// Azurite.
/// </summary>
public sealed class InMemoryGovernance : IDisposable
{
    public InMemoryGovernance(DateTimeOffset now)
    {
        Time = new FakeTimeProvider(now);
        Settlements = new SettlementService(Ledger, Reservations, Time, Options, NullLogger<SettlementService>.Instance);
    }

    public static IOptions<GatewayOptions> Options { get; } = Microsoft.Extensions.Options.Options.Create(new GatewayOptions());

    public static TimeSpan LeaseDuration => Options.Value.Limits.LeaseDuration;

    public FakeTimeProvider Time { get; }

    public InMemoryLimitLedger Ledger { get; } = new();

    public ReservationRegistry Reservations { get; } = new();

    public SettlementService Settlements { get; }

    /// <summary>The authorize step over <see cref="Ledger"/>, or over another ledger (a substitute that fails).</summary>
    public AdmissionService Admission(PriceTable prices, ILimitLedger? ledger = null, GatewayOptions? options = null) =>
        new(ledger ?? Ledger, prices, Settlements, Time, options is null ? Options : Microsoft.Extensions.Options.Options.Create(options),
            NullLogger<AdmissionService>.Instance);

    /// <summary>The lease timer over <see cref="Reservations"/>, renewing through <paramref name="ledger"/>.</summary>
    public ReservationRenewer Renewer(ILimitLedger ledger) => new(ledger, Reservations, Time, Options, NullLogger<ReservationRenewer>.Instance);

    public void Dispose()
    {
        Settlements.Dispose();
        Ledger.Dispose();
    }
}
