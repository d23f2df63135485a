using System.Text;
using System.Text.Json.Nodes;
using Qhaigc.Functions.Translation;

namespace Qhaigc.Functions.Tests.Translation;

/// <summary>Whole answers in both directions (docs/openai-compatibility.md#6-stop-reasons, docs/openai-compatibility.md#7-usage, docs/openai-compatibility.md#4-answers-claude-to-openai): content, tool calls, stop reasons, usage.</summary>
public sealed class AnswerTranslationTests
{
    public static TheoryData<string, string, string[], string> OpenAiToClaude => new()
    {
        {
            "text, stop, usage with cached and cache-write tokens",
            """{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":2125,"completion_tokens":15,"total_tokens":2140,"prompt_tokens_details":{"cached_tokens":2000,"cache_write_tokens":100}}}""",
            [],
            """{"type":"message","role":"assistant","model":"client-model","content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"output_tokens":15}}"""
        },
        {
            "reasoning, then tool calls with ids sanitised; tool_calls becomes tool_use",
            """{"choices":[{"index":0,"message":{"role":"assistant","content":null,"reasoning_content":"think","tool_calls":[{"id":"call:a.1","type":"function","function":{"name":"w","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_2","type":"function","function":{"name":"w","arguments":""}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":10,"completion_tokens":5}}""",
            [],
            """{"type":"message","role":"assistant","model":"client-model","content":[{"type":"thinking","thinking":"think","signature":""},{"type":"tool_use","id":"call_a_1","name":"w","input":{"city":"Paris"}},{"type":"tool_use","id":"call_2","name":"w","input":{}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":5}}"""
        },
        {
            "arguments that are not a JSON object are kept, wrapped",
            """{"choices":[{"index":0,"message":{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"w","arguments":"Paris"}}]},"finish_reason":"function_call"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}""",
            [],
            """{"type":"message","role":"assistant","model":"client-model","content":[{"type":"tool_use","id":"c","name":"w","input":{"raw_arguments":"Paris"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}"""
        },
        {
            "length becomes max_tokens",
            """{"choices":[{"index":0,"message":{"role":"assistant","content":"Cut"},"finish_reason":"length"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}""",
            [],
            """{"type":"message","role":"assistant","model":"client-model","content":[{"type":"text","text":"Cut"}],"stop_reason":"max_tokens","stop_sequence":null,"usage":{"input_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}"""
        },
        {
            "content_filter becomes refusal",
            """{"choices":[{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"content_filter"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}""",
            [],
            """{"type":"message","role":"assistant","model":"client-model","content":[],"stop_reason":"refusal","stop_sequence":null,"usage":{"input_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}"""
        },
        {
            "a refusal message is text with stop_reason refusal",
            """{"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}""",
            [],
            """{"type":"message","role":"assistant","model":"client-model","content":[{"type":"text","text":"I can't help with that."}],"stop_reason":"refusal","stop_sequence":null,"usage":{"input_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}"""
        },
        {
            "vLLM's stop_reason names the stop sequence that matched",
            """{"choices":[{"index":0,"message":{"role":"assistant","content":"one two"},"finish_reason":"stop","stop_reason":"END"}],"usage":{"prompt_tokens":1,"completion_tokens":2}}""",
            ["STOP", "END"],
            """{"type":"message","role":"assistant","model":"client-model","content":[{"type":"text","text":"one two"}],"stop_reason":"stop_sequence","stop_sequence":"END","usage":{"input_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}}"""
        },
        {
            "a text that ends with a requested stop string stopped on it",
            """{"choices":[{"index":0,"message":{"role":"assistant","content":"one END"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2}}""",
            ["END"],
            """{"type":"message","role":"assistant","model":"client-model","content":[{"type":"text","text":"one END"}],"stop_reason":"stop_sequence","stop_sequence":"END","usage":{"input_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}}"""
        },
        {
            "unknown finish_reason becomes end_turn",
            """{"choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"eos"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}""",
            [],
            """{"type":"message","role":"assistant","model":"client-model","content":[{"type":"text","text":"x"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}"""
        },
    };

    public static TheoryData<string, string, string> ClaudeToOpenAi => new()
    {
        {
            "text blocks joined; end_turn is stop; usage adds both cache fields to prompt tokens",
            """{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"Hello, "},{"type":"text","text":"world"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"output_tokens":15}}""",
            """{"choices":[{"index":0,"message":{"role":"assistant","content":"Hello, world","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":2125,"completion_tokens":15,"total_tokens":2140,"prompt_tokens_details":{"cached_tokens":2000,"cache_write_tokens":100}}}"""
        },
        {
            "thinking becomes reasoning_content; tool_use becomes tool_calls; content null without text",
            """{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"tool_use","id":"toolu_1","name":"w","input":{"city":"Paris"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":7}}""",
            """{"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":null,"reasoning_content":"hmm","tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"w","arguments":"{\"city\":\"Paris\"}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":0,"cache_write_tokens":0}}}"""
        },
        {
            "max_tokens is length",
            """{"content":[{"type":"text","text":"x"}],"stop_reason":"max_tokens","usage":{"input_tokens":1,"output_tokens":1}}""",
            """{"choices":[{"index":0,"message":{"role":"assistant","content":"x","refusal":null},"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2,"prompt_tokens_details":{"cached_tokens":0,"cache_write_tokens":0}}}"""
        },
        {
            "refusal is content_filter; stop_sequence is stop",
            """{"content":[],"stop_reason":"refusal","usage":{"input_tokens":1,"output_tokens":1}}""",
            """{"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":null},"logprobs":null,"finish_reason":"content_filter"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2,"prompt_tokens_details":{"cached_tokens":0,"cache_write_tokens":0}}}"""
        },
    };

    [Theory]
    [MemberData(nameof(OpenAiToClaude))]
    public void ChatCompletionToClaude_MapsAnswer(string mapping, string openAi, string[] stops, string claude)
    {
        // Act
        var body = ChatCompletionToClaude.Translate(Encoding.UTF8.GetBytes(openAi), Context(stops), out var estimated, out var error);

        // Assert
        Assert.True(body is not null, mapping + ": " + error?.Message);
        var node = JsonNode.Parse(body)!.AsObject();
        Assert.Matches("^msg_[0-9A-Za-z]{24}$", node["id"]!.GetValue<string>());
        node.Remove("id");
        JsonAssert.Equal(claude, node.ToJsonString());
        Assert.False(estimated);
    }

    [Fact]
    public void ChatCompletionToClaude_EstimatesUsage_WhenUpstreamReportsNone()
    {
        // Arrange
        var openAi = """{"choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}]}"""u8.ToArray();

        // Act
        var body = ChatCompletionToClaude.Translate(openAi, Context([]), out var estimated, out _);

        // Assert: input from the request estimator, output from the tokenizer over the answer.
        Assert.True(estimated);
        JsonAssert.Contains("""{"usage":{"input_tokens":42,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}}""", Encoding.UTF8.GetString(body!));
    }

    [Theory]
    [InlineData("""{"error":{"message":"boom","type":"server_error"}}""", "boom")]
    [InlineData("""{"choices":[]}""", "The upstream answered without a choice.")]
    [InlineData("""<html>""", "The upstream answered with a body that is not JSON.")]
    public void ChatCompletionToClaude_Fails_WhenAnswerHasNoChoice(string openAi, string message)
    {
        // Act
        var body = ChatCompletionToClaude.Translate(Encoding.UTF8.GetBytes(openAi), Context([]), out _, out var error);

        // Assert
        Assert.Null(body);
        Assert.Equal((500, "api_error", message), (error!.Status, error.Type, error.Message));
    }

    [Theory]
    [MemberData(nameof(ClaudeToOpenAi))]
    public void ClaudeMessageToChat_MapsAnswer(string mapping, string claude, string openAi)
    {
        // Act
        var body = ClaudeMessageToChat.Translate(Encoding.UTF8.GetBytes(claude), "chatcmpl-x", 1700000000, "client-model");

        // Assert
        Assert.True(body is not null, mapping);
        var node = JsonNode.Parse(body)!.AsObject();
        Assert.Equal(("chatcmpl-x", "chat.completion", 1700000000L, "client-model"),
            (node["id"]!.GetValue<string>(), node["object"]!.GetValue<string>(), node["created"]!.GetValue<long>(), node["model"]!.GetValue<string>()));
        foreach (var name in new[] { "id", "object", "created", "model" })
        {
            node.Remove(name);
        }

        JsonAssert.Equal(openAi, node.ToJsonString());
    }

    [Theory]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("pause_turn", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("model_context_window_exceeded", "length")]
    [InlineData("tool_use", "tool_calls")]
    [InlineData("refusal", "content_filter")]
    [InlineData("something_new", "stop")]
    public void StopReasons_MapClaudeToOpenAi(string claude, string openAi) => Assert.Equal(openAi, StopReasons.ToFinishReason(claude));

    [Theory]
    [InlineData("stop", "end_turn")]
    [InlineData("length", "max_tokens")]
    [InlineData("tool_calls", "tool_use")]
    [InlineData("function_call", "tool_use")]
    [InlineData("content_filter", "refusal")]
    [InlineData("something_new", "end_turn")]
    public void StopReasons_MapOpenAiToClaude(string openAi, string claude) => Assert.Equal(claude, StopReasons.ToStopReason(openAi));

    [Theory]
    [InlineData("""{"prompt_tokens":100,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":30,"cache_write_tokens":20}}""", 50, 7, 20, 30)]
    [InlineData("""{"prompt_tokens":10,"completion_tokens":3}""", 10, 3, 0, 0)]
    [InlineData("""{"prompt_tokens":10,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":40}}""", 0, 3, 0, 40)]
    public void UsageNumbers_ReadOpenAiUsage(string usage, long input, long output, long creation, long read)
    {
        // Act
        var numbers = UsageNumbers.FromOpenAi(System.Text.Json.JsonDocument.Parse(usage).RootElement);

        // Assert
        Assert.Equal(new UsageNumbers(input, output, creation, read), numbers);
    }

    [Fact]
    public void ToolIds_Sanitize_KeepsSafeCharactersOnly()
    {
        Assert.Equal("call_a_1-x", ToolIds.Sanitize("call:a.1-x"));
        Assert.StartsWith("toolu_", ToolIds.Sanitize(null), StringComparison.Ordinal);
    }

    private static ChatAnswerContext Context(string[] stops) =>
        new("client-model", new ToolNames(), stops, static () => 42, static text => text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
}
