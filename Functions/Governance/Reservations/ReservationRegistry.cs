using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// The reservations of calls admitted on this instance and not settled yet, by request id: admission adds them,
/// settlement (or abandonment) takes them out, the renewer pushes their holds out while they are here.
/// </summary>
public sealed class ReservationRegistry
{
    private readonly ConcurrentDictionary<string, Reservation> _active = new(StringComparer.Ordinal);

    public int Count => _active.Count;

    public bool IsEmpty => _active.IsEmpty;

    public ICollection<Reservation> Active => _active.Values;

    public void Add(Reservation reservation) => _active[reservation.Reserved.RequestId] = reservation;

    /// <summary>Takes out the reservation of a request, if this instance holds one.</summary>
    public bool TryRemove(string requestId, [MaybeNullWhen(false)] out Reservation reservation)
    {
        reservation = null;
        return !_active.IsEmpty && _active.TryRemove(requestId, out reservation);
    }

    /// <summary>Takes out this very reservation; false when it was settled (or replaced) already.</summary>
    public bool TryRemove(Reservation reservation) =>
        _active.TryRemove(new KeyValuePair<string, Reservation>(reservation.Reserved.RequestId, reservation));
}
