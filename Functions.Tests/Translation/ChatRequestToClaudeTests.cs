using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Translation;

namespace Qhaigc.Functions.Tests.Translation;

/// <summary>OpenAI Chat Completions request → Claude Messages request, one row per mapping of docs/openai-compatibility.md#3-requests-openai-to-claude.</summary>
public sealed class ChatRequestToClaudeTests
{
    public static TheoryData<string, string, string> Mappings => new()
    {
        {
            "system and developer messages, any position, become system blocks in order",
            """{"model":"m","messages":[{"role":"system","content":"A"},{"role":"user","content":"hi"},{"role":"developer","content":[{"type":"text","text":"B"}]}]}""",
            """{"model":"m","max_tokens":4096,"system":[{"type":"text","text":"A"},{"type":"text","text":"B"}],"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}"""
        },
        {
            "multi-turn text; consecutive same-role turns merge; empty text dropped",
            """{"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":""},{"role":"user","content":"b"},{"role":"assistant","content":"c"},{"role":"user","content":"d"}]}""",
            """{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"assistant","content":[{"type":"text","text":"c"}]},{"role":"user","content":[{"type":"text","text":"d"}]}]}"""
        },
        {
            "image data URL becomes base64 image; http URL becomes url image",
            """{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},{"type":"image_url","image_url":{"url":"https://example.com/cat.jpg","detail":"high"}}]}]}""",
            """{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},{"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}}]}]}"""
        },
        {
            "PDF file part becomes a base64 document",
            """{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0="}}]}]}""",
            """{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}}]}]}"""
        },
        {
            "assistant tool_calls become tool_use; tool messages merge into one user turn; a following user message goes after the results",
            """{"model":"m","messages":[{"role":"user","content":"weather?"},{"role":"assistant","content":"Checking.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"w","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_2","type":"function","function":{"name":"w","arguments":""}}]},{"role":"tool","tool_call_id":"call_1","content":"sunny"},{"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"rain"}]},{"role":"user","content":"thanks"}]}""",
            """{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"weather?"}]},{"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"call_1","name":"w","input":{"city":"Paris"}},{"type":"tool_use","id":"call_2","name":"w","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":[{"type":"text","text":"sunny"}]},{"type":"tool_result","tool_use_id":"call_2","content":[{"type":"text","text":"rain"}]},{"type":"text","text":"thanks"}]}]}"""
        },
        {
            "tool definitions, named tool_choice and parallel_tool_calls false",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"w","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true}},{"type":"function","function":{"name":"n"}}],"tool_choice":{"type":"function","function":{"name":"w"}},"parallel_tool_calls":false}""",
            """{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"tools":[{"name":"w","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}},{"name":"n","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"tool","name":"w","disable_parallel_tool_use":true}}"""
        },
        {
            "tool_choice required becomes any",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"required"}""",
            """{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"tool_choice":{"type":"any"}}"""
        },
        {
            "tool_choice none and auto",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"none"}""",
            """{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"tool_choice":{"type":"none"}}"""
        },
        {
            "parallel_tool_calls false without tool_choice means auto without parallel use",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"parallel_tool_calls":false}""",
            """{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"tool_choice":{"type":"auto","disable_parallel_tool_use":true}}"""
        },
        {
            "stop string, temperature above 1 clamped, top_p, user, stream",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"stop":"END","temperature":1.7,"top_p":0.9,"user":"u-1","stream":true,"stream_options":{"include_usage":true},"n":1}""",
            """{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"stream":true,"stop_sequences":["END"],"temperature":1,"top_p":0.9,"metadata":{"user_id":"u-1"}}"""
        },
        {
            "stop list; temperature at most 1 kept",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"stop":["a","b"],"temperature":0.2}""",
            """{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"stop_sequences":["a","b"],"temperature":0.2}"""
        },
        {
            "max_completion_tokens wins over max_tokens",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":10,"max_completion_tokens":20}""",
            """{"model":"m","max_tokens":20,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}"""
        },
        {
            "max_tokens alone",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":10}""",
            """{"model":"m","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}"""
        },
        {
            "reasoning_effort becomes a thinking budget below max_tokens",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"max_completion_tokens":1000,"reasoning_effort":"medium"}""",
            """{"model":"m","max_tokens":3048,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"thinking":{"type":"enabled","budget_tokens":2048}}"""
        },
        {
            "response_format json_schema becomes output_config.format; json_object dropped",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"o","schema":{"type":"object"},"strict":true}}}""",
            """{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"output_config":{"format":{"type":"json_schema","schema":{"type":"object"}}}}"""
        },
        {
            "unknown OpenAI fields and style are dropped",
            """{"model":"m","messages":[{"role":"user","content":"x","name":"bob"}],"style":"claude","seed":3,"logprobs":true,"frequency_penalty":0.5,"metadata":{"a":"b"}}""",
            """{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}"""
        },
    };

    public static TheoryData<string, string> Refusals => new()
    {
        { """{"messages":[{"role":"user","content":"x"}]}""", "model: Field required" },
        { """{"model":"m"}""", "messages: Field required" },
        { """{"model":"m","messages":[]}""", "messages: at least one user or assistant message with content is required" },
        { """{"model":"m","messages":[{"role":"system","content":"only"}]}""", "messages: at least one user or assistant message with content is required" },
        { """{"model":"m","messages":[{"role":"robot","content":"x"}]}""", "messages.0.role: Input should be 'system', 'developer', 'user', 'assistant' or 'tool'" },
        { """{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}]}]}""", "messages.0.content.0: audio input is not supported by this model" },
        { """{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}""", "messages.0.content.0.image_url.url: must be an http(s) URL or a base64 data URL" },
        { """{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"w","arguments":"{not json"}}]}]}""", "messages.1.tool_calls.0.function.arguments: must be a JSON object" },
        { """{"model":"m","messages":[{"role":"tool","content":"x"}]}""", "messages.0.tool_call_id: Field required" },
        { """{"model":"m","messages":[{"role":"user","content":"x"}],"n":2}""", "n: only 1 choice is supported" },
        { """{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0}""", "max_tokens: Input should be an integer greater than or equal to 1" },
        { """{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":"hot"}""", "temperature: Input should be a valid number" },
        { """{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"sometimes"}""", "tool_choice: Input should be 'none', 'auto', 'required' or a named function" },
        { """{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":"max"}""", "reasoning_effort: Input should be 'none', 'minimal', 'low', 'medium' or 'high'" },
        { """[1,2]""", "Input should be a valid dictionary" },
    };

    [Theory]
    [MemberData(nameof(Mappings))]
    public void Translate_MapsOpenAiRequestToClaude(string mapping, string openAi, string claude)
    {
        // Arrange
        using var document = JsonDocument.Parse(openAi);

        // Act
        var body = ChatRequestToClaude.Translate(document.RootElement, new ChatRequestOptions(), out var error);

        // Assert
        Assert.True(body is not null, mapping + ": " + error?.Message);
        JsonAssert.Equal(claude, Encoding.UTF8.GetString(body));
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Translate_Returns400WithPath_WhenInputCannotBeTranslated(string openAi, string message)
    {
        // Arrange
        using var document = JsonDocument.Parse(openAi);

        // Act
        var body = ChatRequestToClaude.Translate(document.RootElement, new ChatRequestOptions(), out var error);

        // Assert
        Assert.Null(body);
        Assert.Equal((400, "invalid_request_error", message), (error!.Status, error.Type, error.Message));
    }

    [Fact]
    public void Translate_KeepsTemperatureAboveOne_ForOpenAiUpstreams()
    {
        // Arrange
        using var document = JsonDocument.Parse("""{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":1.5}""");

        // Act
        var body = ChatRequestToClaude.Translate(document.RootElement, new ChatRequestOptions { ClampTemperature = false }, out _);

        // Assert
        JsonAssert.Contains("""{"temperature":1.5}""", Encoding.UTF8.GetString(body!));
    }
}
