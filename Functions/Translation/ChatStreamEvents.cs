using System.Net.ServerSentEvents;

namespace Qhaigc.Functions.Translation;

/// <summary>
/// Claude events read from an OpenAI-compatible upstream's event stream: each upstream event is translated as soon as
/// it arrives and its Claude events handed out one by one. Nothing is buffered beyond the events of one chunk.
/// </summary>
public sealed class ChatStreamEvents(IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>> upstream, ChatStreamToClaude translator) : IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>>
{
    private readonly Queue<SseItem<ReadOnlyMemory<byte>>> _pending = new();
    private bool _ended;

    public SseItem<ReadOnlyMemory<byte>> Current { get; private set; }

    public ChatStreamToClaude Translator => translator;

    public async ValueTask<bool> MoveNextAsync()
    {
        while (_pending.Count == 0)
        {
            if (_ended || translator.Finished)
            {
                return false;
            }

            if (!await upstream.MoveNextAsync())
            {
                _ended = true;
                Enqueue(translator.Complete(sawDone: false));
                continue;
            }

            Enqueue(translator.OnData(upstream.Current.Data.Span));
        }

        Current = _pending.Dequeue();
        return true;
    }

    public ValueTask DisposeAsync() => upstream.DisposeAsync();

    private void Enqueue(IReadOnlyList<SseItem<ReadOnlyMemory<byte>>> events)
    {
        foreach (var item in events)
        {
            _pending.Enqueue(item);
        }
    }
}
