using System.Diagnostics;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// Counts how long one call waits on others: on its upstream (from the moment its request is sent until the answer's
/// headers arrive, and while a body or the next event is still on its way), on its client (a request body still
/// arriving), and between retries. What is left of the call's time is the gateway's own, which the overhead header
/// reports (<c>x-qhaigc-overhead-ms</c>; see docs/architecture.md, "Timing").
/// </summary>
/// <remarks>
/// There is one way to charge it: whoever waits calls <see cref="AddSince"/> on the call's clock, which is passed to
/// it explicitly (<c>GatewayContext.Waits</c> in the API layer, a parameter of <see cref="IUpstream"/>, and the upstream
/// request itself, a <see cref="ClockedRequestMessage"/>, for the HTTP pipeline). Nothing is ambient, so a new
/// <c>await</c> is the gateway's own time until its author charges it.
/// </remarks>
public sealed class WaitClock
{
    private long _ticks;

    /// <summary>Set by <see cref="UpstreamWaitHandler.ConnectAsync"/> when a send of this call opened a new upstream connection.</summary>
    public bool OpenedConnection { get; set; }

    /// <summary>Waiting so far, in <see cref="Stopwatch"/> ticks.</summary>
    public long Ticks => Interlocked.Read(ref _ticks);

    /// <summary>Adds the time from <paramref name="startTimestamp"/> (a <see cref="Stopwatch.GetTimestamp"/>) until now.</summary>
    public void AddSince(long startTimestamp) => Interlocked.Add(ref _ticks, Math.Max(0, Stopwatch.GetTimestamp() - startTimestamp));

    /// <summary>The clock an upstream request carries, if any.</summary>
    public static WaitClock? Of(HttpRequestMessage? message) => (message as ClockedRequestMessage)?.Clock;
}

/// <summary>
/// An upstream request that carries its call's <see cref="WaitClock"/> to <see cref="UpstreamWaitHandler"/> (and to the
/// connect callback, which sees the request that opened the connection). A field of the request instead of an entry in
/// its <see cref="HttpRequestMessage.Options"/>, whose dictionary every call would allocate (docs/performance.md).
/// </summary>
public sealed class ClockedRequestMessage(HttpMethod method, Uri uri, WaitClock clock) : HttpRequestMessage(method, uri)
{
    public WaitClock Clock { get; } = clock;
}
