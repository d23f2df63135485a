using System.Text;
using BenchmarkDotNet.Attributes;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Benchmarks;

/// <summary>
/// Per-request work on bodies: parse and validate a Messages request (the whole body, as the handler does), map the
/// model name for the upstream and back (the format rewriting the passthrough path does), count a message's usage.
/// </summary>
[MemoryDiagnoser]
public class RequestBenchmarks
{
    private static readonly byte[] Message = Encoding.UTF8.GetBytes(
        """{"id":"msg_01Bench","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"The quick brown fox jumps over the lazy dog."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"cache_creation":{"ephemeral_5m_input_tokens":60,"ephemeral_1h_input_tokens":40},"output_tokens":15,"service_tier":"standard"}}""");

    private byte[] _request = [];

    /// <summary>Conversation turns in the request: 1 is a one-line prompt, 40 a chat of about 20 KB.</summary>
    [Params(1, 40)]
    public int Turns { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var body = new StringBuilder("""{"model":"claude-sonnet-4-5","max_tokens":1024,"system":"You are a helpful assistant.","messages":[""");
        for (var i = 0; i < Turns; i++)
        {
            var role = i % 2 == 0 ? "user" : "assistant";
            body.Append(i == 0 ? "" : ",").Append("{\"role\":\"").Append(role).Append("\",\"content\":\"")
                .Append(string.Join(' ', Enumerable.Repeat("Tell me more about the quick brown fox.", Turns == 1 ? 1 : 12))).Append("\"}");
        }

        _request = Encoding.UTF8.GetBytes(body.Append("]}").ToString());
    }

    [Benchmark(Baseline = true)]
    public bool ParseAndValidate()
    {
        using var request = MessagesRequestValidator.Parse(_request, out _);
        return request?.Stream ?? false;
    }

    [Benchmark]
    public int MapModelForUpstream()
    {
        using var request = MessagesRequestValidator.Parse(_request, out _);
        return JsonRewriter.WithTopLevelString(request!.Root, "model", "claude-sonnet-4-5-20250929").Length;
    }

    [Benchmark]
    public int RestoreModelInAnswer() => JsonRewriter.WithMessageModel(Message, "claude-sonnet-4-5").Length;

    [Benchmark]
    public long CountMessageUsage()
    {
        var meter = new UsageMeter();
        meter.ObserveMessage(Message);
        return meter.Usage.InputTokens;
    }
}
