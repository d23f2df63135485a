using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Api;

/// <summary>
/// Waits for a stream's next upstream event and keeps the client's response alive meanwhile: after each interval of
/// silence it writes the keep-alive bytes (a <c>ping</c> event, or an SSE comment) and flushes them
/// (docs/wire-contract.md). The time spent waiting is the upstream's, charged to the call's <see cref="WaitClock"/>.
/// </summary>
/// <remarks>
/// One timer per stream, armed only while waiting, instead of a <c>Task.Delay</c> and a <c>Task.WhenAny</c> per event:
/// the passthrough stream allocates nothing per event beyond the event itself (docs/performance.md). A keep-alive is written only
/// during a wait and under a gate that the wait takes before it returns, so it never interleaves with the relay's own
/// writes. A client that leaves ends the wait through the upstream read, which every upstream links to the request's
/// cancellation.
/// </remarks>
public sealed class KeepAliveWait : IAsyncDisposable
{
    private readonly PipeWriter _writer;
    private readonly byte[] _keepAlive;
    private readonly TimeSpan _interval;
    private readonly WaitClock _waits;
    private readonly CancellationToken _aborted;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ITimer _timer;
    private bool _waiting;

    public KeepAliveWait(
        PipeWriter writer, ReadOnlySpan<byte> keepAlive, TimeSpan interval, TimeProvider time, WaitClock waits, CancellationToken aborted)
    {
        _writer = writer;
        _keepAlive = keepAlive.ToArray();
        _interval = interval;
        _waits = waits;
        _aborted = aborted;
        _timer = time.CreateTimer(static state => _ = ((KeepAliveWait)state!).KeepAliveAsync(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The result of <paramref name="next"/> (an upstream read), with keep-alives sent while it is pending.</summary>
    /// <remarks>A read already complete (most events of a fast stream) is handed back as it is, without an async call.</remarks>
    public ValueTask<T> NextAsync<T>(ValueTask<T> next) => next.IsCompleted ? next : WaitAsync(next);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<T> WaitAsync<T>(ValueTask<T> next)
    {
        var waitStart = Stopwatch.GetTimestamp();
        Volatile.Write(ref _waiting, true);
        _timer.Change(_interval, _interval);
        try
        {
            return await next;
        }
        finally
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            // A keep-alive being flushed finishes before the relay writes again; none starts after this.
            await _gate.WaitAsync(CancellationToken.None);
            Volatile.Write(ref _waiting, false);
            _gate.Release();
            _waits.AddSince(waitStart);
        }
    }

    public ValueTask DisposeAsync() => _timer.DisposeAsync();

    private async Task KeepAliveAsync()
    {
        if (!await _gate.WaitAsync(0))
        {
            return;
        }

        try
        {
            if (Volatile.Read(ref _waiting))
            {
                _writer.Write(_keepAlive);
                await _writer.FlushAsync(_aborted);
            }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException)
        {
            // The client left; the relay learns it from its own read or write.
        }
        finally
        {
            _gate.Release();
        }
    }
}
