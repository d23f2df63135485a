using System.Collections.Concurrent;
using System.Text;

namespace Qhaigc.Bench.FakeUpstream;

/// <summary>
/// Canned answers, built once as bytes: a Claude message, a Claude event stream of N events (message_start,
/// content_block_start, N−5 text deltas of one short word each, content_block_stop, message_delta, message_stop), and
/// the same two in OpenAI's chat-completions format (N chunks, then <c>[DONE]</c>) for a direct baseline of the
/// translation path.
/// </summary>
public static class CannedAnswers
{
    private const string MessageId = "msg_01BenchAAAAAAAAAAAAAAAAAA";
    private const string ChatId = "chatcmpl-benchAAAAAAAAAAAAAAAAAAAAAAAA";

    private static readonly string[] Words = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", "."];

    private static readonly ConcurrentDictionary<int, byte[][]> ClaudeStreams = new();
    private static readonly ConcurrentDictionary<int, byte[][]> ChatStreams = new();

    public static byte[] ClaudeMessage { get; } = Encoding.UTF8.GetBytes(
        "{\"id\":\"" + MessageId + "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"bench\"," +
        "\"content\":[{\"type\":\"text\",\"text\":\"The quick brown fox jumps over the lazy dog. " +
        "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog.\"}]," +
        "\"stop_reason\":\"end_turn\",\"stop_sequence\":null," +
        "\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":30," +
        "\"service_tier\":\"standard\"}}");

    /// <summary>A count_tokens answer, the same input as the messages report.</summary>
    public static byte[] TokenCount { get; } = Encoding.UTF8.GetBytes("{\"input_tokens\":25}");

    public static byte[] ChatCompletion { get; } = Encoding.UTF8.GetBytes(
        "{\"id\":\"" + ChatId + "\",\"object\":\"chat.completion\",\"created\":1764000000,\"model\":\"bench\"," +
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"The quick brown fox jumps over the lazy dog. " +
        "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog.\",\"refusal\":null}," +
        "\"logprobs\":null,\"finish_reason\":\"stop\"}]," +
        "\"usage\":{\"prompt_tokens\":25,\"completion_tokens\":30,\"total_tokens\":55}}");

    /// <summary>One byte array per event, each a complete SSE event with its blank line.</summary>
    public static byte[][] ClaudeStream(int events) => ClaudeStreams.GetOrAdd(events, static count =>
    {
        var list = new List<string>
        {
            Event("message_start",
                "{\"type\":\"message_start\",\"message\":{\"id\":\"" + MessageId + "\",\"type\":\"message\",\"role\":\"assistant\"," +
                "\"content\":[],\"model\":\"bench\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25," +
                "\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1}}}"),
            Event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"),
        };
        var deltas = count - 5;
        for (var i = 0; i < deltas; i++)
        {
            list.Add(Event("content_block_delta",
                "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"" + Words[i % Words.Length] + "\"}}"));
        }

        list.Add(Event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"));
        list.Add(Event("message_delta",
            "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":25," +
            "\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":" + deltas + "}}"));
        list.Add(Event("message_stop", "{\"type\":\"message_stop\"}"));
        return [.. list.Select(Encoding.UTF8.GetBytes)];
    });

    /// <summary>N chat-completion chunks (role, N−3 content words, finish reason, usage), then <c>[DONE]</c>.</summary>
    public static byte[][] ChatStream(int events) => ChatStreams.GetOrAdd(events, static count =>
    {
        const string head = "{\"id\":\"" + ChatId + "\",\"object\":\"chat.completion.chunk\",\"created\":1764000000,\"model\":\"bench\",";
        var list = new List<string>
        {
            Data(head + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}"),
        };
        var words = count - 3;
        for (var i = 0; i < words; i++)
        {
            list.Add(Data(head + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + Words[i % Words.Length] + "\"},\"finish_reason\":null}]}"));
        }

        list.Add(Data(head + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}"));
        list.Add(Data(head + "\"choices\":[],\"usage\":{\"prompt_tokens\":25,\"completion_tokens\":" + words + ",\"total_tokens\":" + (25 + words) + "}}"));
        list.Add(Data("[DONE]"));
        return [.. list.Select(Encoding.UTF8.GetBytes)];
    });

    private static string Event(string name, string data) => "event: " + name + "\ndata: " + data + "\n\n";

    private static string Data(string data) => "data: " + data + "\n\n";
}
