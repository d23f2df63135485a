using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// An Anthropic-format event stream checked as it passes: every event's data must be one JSON object, or the stream
/// ends with an <see cref="UpstreamProtocolException"/> instead of relaying bytes no SDK can read. The check reads
/// each event once with <c>Utf8JsonReader</c> and builds nothing; the bytes are still relayed as they came.
/// </summary>
public sealed class CheckedClaudeEvents(IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>> inner) : IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>>
{
    public SseItem<ReadOnlyMemory<byte>> Current => inner.Current;

    public ValueTask<bool> MoveNextAsync()
    {
        // An event already read is checked at once; only a read that waits takes the (pooled) async path, so the
        // check adds no allocation per event (docs/performance.md).
        var next = inner.MoveNextAsync();
        return next.IsCompletedSuccessfully ? new ValueTask<bool>(Check(next.Result)) : AwaitAndCheckAsync(next);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> AwaitAndCheckAsync(ValueTask<bool> next) => Check(await next);

    private bool Check(bool moved)
    {
        if (moved && !JsonShape.IsObject(inner.Current.Data.Span))
        {
            throw new UpstreamProtocolException("The upstream sent an event that is not valid JSON.");
        }

        return moved;
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
