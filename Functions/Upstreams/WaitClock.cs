using System.Diagnostics;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// Counts how long one call waits on others: on its upstream (from the moment its request is sent until the answer's
/// headers arrive, and while a body or the next event is still on its way), on its client (a request body still
/// arriving), and between retries. What is left of the call's time is the gateway's own, which the overhead header
/// reports (<c>x-qhaigc-overhead-ms</c>, issue 5).
/// </summary>
/// <remarks>
/// The call's clock travels with its async flow (<see cref="Current"/>), so the upstream HTTP pipeline
/// (<see cref="UpstreamWaitHandler"/>) and the adapters charge it without a parameter on <see cref="IUpstream"/>.
/// Set it only in an async method (a handler): the flow restores the previous value when that method returns.
/// </remarks>
public sealed class WaitClock
{
    private static readonly AsyncLocal<WaitClock?> s_current = new();

    private long _ticks;

    /// <summary>The clock of the call this async flow serves, if any.</summary>
    public static WaitClock? Current
    {
        get => s_current.Value;
        set => s_current.Value = value;
    }

    /// <summary>Set by <see cref="UpstreamWaitHandler.ConnectAsync"/> when a send of this call opened a new upstream connection.</summary>
    public bool OpenedConnection { get; set; }

    /// <summary>Waiting so far, in <see cref="Stopwatch"/> ticks.</summary>
    public long Ticks => Interlocked.Read(ref _ticks);

    /// <summary>Adds the time from <paramref name="startTimestamp"/> (a <see cref="Stopwatch.GetTimestamp"/>) until now.</summary>
    public void AddSince(long startTimestamp) => Interlocked.Add(ref _ticks, Math.Max(0, Stopwatch.GetTimestamp() - startTimestamp));

    /// <summary>Charges the current call's clock, if there is one, with the time since <paramref name="startTimestamp"/>.</summary>
    public static void ChargeSince(long startTimestamp) => Current?.AddSince(startTimestamp);
}
