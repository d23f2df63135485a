using NSubstitute;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>The lease timer: it renews the holds of this instance's running calls, and only those that are due.</summary>
public sealed class ReservationRenewerTests : IDisposable
{
    private const string Key = "key_00000000000000aa";
    private static readonly DateTimeOffset Now = new(2026, 11, 5, 10, 20, 5, TimeSpan.Zero);

    private readonly InMemoryGovernance _governance = new(Now);

    [Fact]
    public async Task Tick_PushesOutOnlyTheHoldsThatAreDue_EveryThirdOfTheLease()
    {
        // Arrange: a ledger that records renewals; a hold last renewed at admission (due a third of a lease later), one
        // renewed since, and a reservation without a hold (tokens only).
        var ledger = Substitute.For<ILimitLedger>();
        ledger.RenewAsync(Arg.Any<Reserved>(), Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>()).Returns(true);
        using var renewer = _governance.Renewer(ledger);
        var lease = InMemoryGovernance.LeaseDuration;
        var due = _governance.Settlements.Track(new Reserved { KeyId = Key, RequestId = "req_due", Stream = true }, Now);
        var fresh = _governance.Settlements.Track(new Reserved { KeyId = Key, RequestId = "req_fresh", Stream = true }, Now + (lease / 3));
        var noHold = _governance.Settlements.Track(new Reserved { KeyId = Key, RequestId = "req_tokens", WindowStart = Now }, Now);
        renewer.Start();

        // Act
        _governance.Time.Advance(lease / 3);
        await WaitUntilAsync(() => due.RenewedAt > Now);
        await renewer.StopAsync();

        // Assert
        var renewedAt = Now + (lease / 3);
        await ledger.Received(1).RenewAsync(due.Reserved, renewedAt + lease, Arg.Any<CancellationToken>());
        await ledger.DidNotReceive().RenewAsync(fresh.Reserved, Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>());
        await ledger.DidNotReceive().RenewAsync(noHold.Reserved, Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>());
        Assert.Equal(renewedAt, due.RenewedAt);
    }

    public void Dispose() => _governance.Dispose();

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
