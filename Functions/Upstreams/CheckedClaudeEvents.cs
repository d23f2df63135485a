using System.Net.ServerSentEvents;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// An Anthropic-format event stream checked as it passes: every event's data must be one JSON object, or the stream
/// ends with an <see cref="UpstreamProtocolException"/> instead of relaying bytes no SDK can read. The check reads
/// each event once with <c>Utf8JsonReader</c> and builds nothing; the bytes are still relayed as they came.
/// </summary>
public sealed class CheckedClaudeEvents(IAsyncEnumerator<SseItem<byte[]>> inner) : IAsyncEnumerator<SseItem<byte[]>>
{
    public SseItem<byte[]> Current => inner.Current;

    public async ValueTask<bool> MoveNextAsync()
    {
        if (!await inner.MoveNextAsync())
        {
            return false;
        }

        if (!JsonShape.IsObject(inner.Current.Data))
        {
            throw new UpstreamProtocolException("The upstream sent an event that is not valid JSON.");
        }

        return true;
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
