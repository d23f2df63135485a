namespace Qhaigc.Functions.Governance;

/// <summary>
/// A running call's reservation on this instance: renewed while the call runs, settled when its usage record comes.
/// The API layer registers it for disposal with the response, so a call that ends without a record (a fault in the
/// pipeline) still gives its stream slot and reservation back.
/// </summary>
public sealed class Reservation(SettlementService owner, Reserved reserved, DateTimeOffset renewedAt) : IAsyncDisposable
{
    private long _renewedAtTicks = renewedAt.UtcTicks;

    public Reserved Reserved { get; } = reserved;

    public DateTimeOffset RenewedAt
    {
        get => new(Interlocked.Read(ref _renewedAtTicks), TimeSpan.Zero);
        set => Interlocked.Exchange(ref _renewedAtTicks, value.UtcTicks);
    }

    public ValueTask DisposeAsync()
    {
        owner.Abandon(this);
        return ValueTask.CompletedTask;
    }
}
