using System.Text;

namespace Qhaigc.Functions.Benchmarks;

/// <summary>A Claude event stream as an upstream sends it: message_start, text deltas of one word each, the end.</summary>
public static class ClaudeEvents
{
    private static readonly string[] Words = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", "."];

    public static byte[] Bytes(int events) => [.. PerEvent(events).SelectMany(static e => e)];

    /// <summary>The same stream, one array per event: what a read returns when events trickle in one at a time.</summary>
    public static List<byte[]> PerEvent(int events)
    {
        var text = new List<string>();
        Event(text, "message_start",
            """{"type":"message_start","message":{"id":"msg_01Bench","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}""");
        Event(text, "content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""");
        for (var i = 0; i < events - 5; i++)
        {
            Event(text, "content_block_delta",
                $$$"""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"{{{Words[i % Words.Length]}}}"}}""");
        }

        Event(text, "content_block_stop", """{"type":"content_block_stop","index":0}""");
        Event(text, "message_delta",
            $$$"""{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":{{{events - 5}}}}}""");
        Event(text, "message_stop", """{"type":"message_stop"}""");
        return text.ConvertAll(Encoding.UTF8.GetBytes);
    }

    private static void Event(List<string> text, string name, string data) => text.Add($"event: {name}\ndata: {data}\n\n");
}
