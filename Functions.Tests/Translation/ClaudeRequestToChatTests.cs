using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Translation;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Tests.Translation;

/// <summary>Claude Messages request → OpenAI Chat Completions request, one row per mapping of docs/openai-compatibility.md#92-requests-claude-to-openai.</summary>
public sealed class ClaudeRequestToChatTests
{
    private static readonly string LongName = new('t', 70);

    public static TheoryData<string, string, string> Mappings => new()
    {
        {
            "system blocks become one leading system message; text turns become string content",
            """{"model":"claude","max_tokens":100,"system":[{"type":"text","text":"A"},{"type":"text","text":"B","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"text","text":"yo"}]},{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}""",
            """{"model":"up","messages":[{"role":"system","content":"A\n\nB"},{"role":"user","content":"hi"},{"role":"assistant","content":"yo"},{"role":"user","content":"a\nb"}],"max_completion_tokens":100}"""
        },
        {
            "base64 and URL images become image_url parts; PDF becomes a file part",
            """{"model":"claude","max_tokens":100,"messages":[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/"}},{"type":"image","source":{"type":"url","url":"https://e.com/a.png"}},{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}}]}]}""",
            """{"model":"up","messages":[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/"}},{"type":"image_url","image_url":{"url":"https://e.com/a.png"}},{"type":"file","file":{"filename":"document.pdf","file_data":"data:application/pdf;base64,JVBERi0="}}]}],"max_completion_tokens":100}"""
        },
        {
            "tool_use becomes tool_calls; tool_result becomes tool messages before the rest of the turn; thinking dropped",
            """{"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"w?"},{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"Let me see."},{"type":"tool_use","id":"toolu_1","name":"w","input":{"city":"Paris"}}]},{"role":"user","content":[{"type":"text","text":"also this"},{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"sunny"},{"type":"text","text":"22C"}]}]}]}""",
            """{"model":"up","messages":[{"role":"user","content":"w?"},{"role":"assistant","content":"Let me see.","tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"w","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"toolu_1","content":"sunny\n22C"},{"role":"user","content":"also this"}],"max_completion_tokens":100}"""
        },
        {
            "assistant turn with only a tool call has null content; string tool result",
            """{"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"w?"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"w","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"ok","is_error":true}]}]}""",
            """{"model":"up","messages":[{"role":"user","content":"w?"},{"role":"assistant","content":null,"tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"w","arguments":"{}"}}]},{"role":"tool","tool_call_id":"toolu_1","content":"ok"}],"max_completion_tokens":100}"""
        },
        {
            "tools and tool_choice any; disable_parallel_tool_use; server tools dropped",
            """{"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"w","description":"Weather","input_schema":{"type":"object"}},{"type":"web_search_20250305","name":"web_search"}],"tool_choice":{"type":"any","disable_parallel_tool_use":true}}""",
            """{"model":"up","messages":[{"role":"user","content":"x"}],"max_completion_tokens":100,"tools":[{"type":"function","function":{"name":"w","description":"Weather","parameters":{"type":"object"}}}],"tool_choice":"required","parallel_tool_calls":false}"""
        },
        {
            "named tool_choice",
            """{"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"w","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"w"}}""",
            """{"model":"up","messages":[{"role":"user","content":"x"}],"max_completion_tokens":100,"tools":[{"type":"function","function":{"name":"w","parameters":{"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"w"}}}"""
        },
        {
            "stream asks for usage; sampling and stop; top_k dropped; metadata.user_id becomes user",
            """{"model":"claude","max_tokens":100,"stream":true,"temperature":0.5,"top_p":0.9,"top_k":40,"stop_sequences":["END"],"metadata":{"user_id":"u-1"},"messages":[{"role":"user","content":"x"}]}""",
            """{"model":"up","messages":[{"role":"user","content":"x"}],"max_completion_tokens":100,"stream":true,"stream_options":{"include_usage":true},"temperature":0.5,"top_p":0.9,"stop":["END"],"user":"u-1"}"""
        },
        {
            "thinking budget becomes reasoning_effort; output_config.format becomes response_format",
            """{"model":"claude","max_tokens":5000,"thinking":{"type":"enabled","budget_tokens":4096},"output_config":{"format":{"type":"json_schema","schema":{"type":"object"}}},"messages":[{"role":"user","content":"x"}]}""",
            """{"model":"up","messages":[{"role":"user","content":"x"}],"max_completion_tokens":5000,"reasoning_effort":"high","response_format":{"type":"json_schema","json_schema":{"name":"output","schema":{"type":"object"},"strict":true}}}"""
        },
    };

    [Theory]
    [MemberData(nameof(Mappings))]
    public void Translate_MapsClaudeRequestToOpenAi(string mapping, string claude, string openAi)
    {
        // Arrange
        using var document = JsonDocument.Parse(claude);

        // Act
        var request = ClaudeRequestToChat.Translate(document.RootElement, "up", new ChatUpstreamOptions(), out var error);

        // Assert
        Assert.True(request is not null, mapping + ": " + error?.Message);
        JsonAssert.Equal(openAi, Encoding.UTF8.GetString(request.Body));
    }

    [Fact]
    public void Translate_UsesMaxTokens_WhenUpstreamIsConfiguredForIt()
    {
        // Arrange
        using var document = JsonDocument.Parse("""{"model":"c","max_tokens":7,"messages":[{"role":"user","content":"x"}]}""");

        // Act
        var request = ClaudeRequestToChat.Translate(document.RootElement, "up", new ChatUpstreamOptions { MaxTokensParameter = "max_tokens" }, out _);

        // Assert
        JsonAssert.Contains("""{"max_tokens":7}""", Encoding.UTF8.GetString(request!.Body));
        Assert.DoesNotContain("max_completion_tokens", Encoding.UTF8.GetString(request.Body), StringComparison.Ordinal);
    }

    [Fact]
    public void Translate_ShortensLongToolNames_AndRestoresThemInAnswers()
    {
        // Arrange
        using var document = JsonDocument.Parse($$$"""{"model":"c","max_tokens":7,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"{{{LongName}}}","input_schema":{"type":"object"}}]}""");

        // Act
        var request = ClaudeRequestToChat.Translate(document.RootElement, "up", new ChatUpstreamOptions(), out _)!;

        // Assert: 55 characters, "_", 8 hex digits of SHA-256 (docs/openai-compatibility.md#92-requests-claude-to-openai), and the original comes back.
        using var sent = JsonDocument.Parse(request.Body);
        var name = sent.RootElement.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString()!;
        Assert.Equal(64, name.Length);
        Assert.Matches("^t{55}_[0-9a-f]{8}$", name);
        Assert.Equal(LongName, request.ToolNames.Restore(name));
        Assert.Equal("other", request.ToolNames.Restore("other"));
    }

    [Fact]
    public void Translate_Refuses_DocumentWithUrlSource()
    {
        // Arrange
        using var document = JsonDocument.Parse("""{"model":"c","max_tokens":7,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://e.com/a.pdf"}}]}]}""");

        // Act
        var request = ClaudeRequestToChat.Translate(document.RootElement, "up", new ChatUpstreamOptions(), out var error);

        // Assert
        Assert.Null(request);
        Assert.Equal(400, error!.Status);
        Assert.StartsWith("messages.0.content.0.source:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"temperature":0.5}""", "temperature")]
    [InlineData("""{"top_p":0.5}""", "top_p")]
    [InlineData("""{"top_k":5}""", "top_k")]
    public void VersionRules_RejectSamplingParameters_Under20261021(string extra, string field)
    {
        // Arrange
        var body = """{"model":"c","max_tokens":7,"messages":[{"role":"user","content":"x"}],""" + extra[1..];
        using var document = JsonDocument.Parse(body);

        // Act
        var error = VersionRules.Check("2026-10-21", document.RootElement);
        var older = VersionRules.Check(AnthropicVersions.Default, document.RootElement);

        // Assert
        Assert.NotNull(error);
        Assert.StartsWith(field + ":", error.Message, StringComparison.Ordinal);
        Assert.Null(older);
    }
}
