using System.Buffers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Qhaigc.Functions.Translation;

namespace Qhaigc.Functions.Benchmarks;

/// <summary>
/// The <c>/v1/chat/completions</c> path's extra work: an OpenAI request into Claude's format, a Claude message back
/// into a chat completion, and a Claude event stream into chat-completion chunks (per answer of 200 events).
/// </summary>
[MemoryDiagnoser]
public class TranslationBenchmarks
{
    private static readonly byte[] ChatRequest = Encoding.UTF8.GetBytes(
        """{"model":"claude-sonnet-4-5","max_tokens":1024,"temperature":0.7,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Tell me about the quick brown fox."},{"role":"assistant","content":"It jumps over the lazy dog."},{"role":"user","content":"Why?"}]}""");

    private static readonly byte[] ClaudeMessage = Encoding.UTF8.GetBytes(
        """{"id":"msg_01Bench","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"The quick brown fox jumps over the lazy dog."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":15}}""");

    private static readonly byte[] TextDelta = Encoding.UTF8.GetBytes(
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" quick"}}""");

    private static readonly ChatRequestOptions Options = new();
    private SseItem<ReadOnlyMemory<byte>>[] _events = [];
    private ClaudeStreamToChat _started = null!;
    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);

    [GlobalSetup]
    public void Setup()
    {
        _events = [.. SseParser.Create(new MemoryStream(ClaudeEvents.Bytes(200)), static (_, data) => new ReadOnlyMemory<byte>(data.ToArray())).Enumerate()];
        _started = new ClaudeStreamToChat("chatcmpl-bench", 1764000000, "claude-sonnet-4-5", includeUsage: true);
        foreach (var item in _events.Take(2))
        {
            _started.OnEvent(item.EventType, item.Data.Span);
        }
    }

    [Benchmark]
    public int ChatRequestToClaudeRequest()
    {
        using var document = JsonDocument.Parse(ChatRequest);
        return ChatRequestToClaude.Translate(document.RootElement, Options, out _)?.Length ?? 0;
    }

    [Benchmark]
    public int ClaudeMessageToChatCompletion() =>
        ClaudeMessageToChat.Translate(ClaudeMessage, "chatcmpl-bench", 1764000000, "claude-sonnet-4-5")?.Length ?? 0;

    /// <summary>A whole 200-event answer; divide by 200 for one event.</summary>
    [Benchmark]
    public int ClaudeStreamToChatChunks()
    {
        var translator = new ClaudeStreamToChat("chatcmpl-bench", 1764000000, "claude-sonnet-4-5", includeUsage: true);
        var bytes = 0;
        foreach (var item in _events)
        {
            foreach (var chunk in translator.OnEvent(item.EventType, item.Data.Span))
            {
                bytes += chunk.Length;
            }
        }

        return bytes;
    }

    /// <summary>One text delta on a stream already started: the event nearly every event of a long answer is.</summary>
    [Benchmark]
    public int ClaudeTextDeltaToChatChunk() => _started.OnEvent("content_block_delta", TextDelta)[0].Length;

    /// <summary>The same delta written as the relay writes it: straight into the response as a data line.</summary>
    [Benchmark]
    public int ClaudeTextDeltaWrittenToResponse()
    {
        _output.ResetWrittenCount();
        return _started.WriteEvent("content_block_delta", TextDelta, _output);
    }
}
