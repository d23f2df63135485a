using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Usage;

/// <summary>The hard input bound behind spend caps (docs/limits-and-prices.md#what-a-hard-cap-guarantees).</summary>
public sealed class InputBoundReaderTests
{
    [Theory]
    [InlineData("Hello there")]
    [InlineData("字字字字字字字字字字字字字字字字字字字字")]
    [InlineData("emoji 😀😀😀 and \\n escapes \\u00e9")]
    public void Read_BoundsMeasuredTextByItsUtf8Bytes_WhateverItsScript(string text)
    {
        // Arrange
        var body = $$"""{"model":"m","max_tokens":5,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"text","text":"{{text}}"}]}]}""";
        using var document = JsonDocument.Parse(body);
        var decoded = document.RootElement.GetProperty("messages")[0].GetProperty("content")[0].GetProperty("text").GetString()!;

        // Act
        var bound = InputBoundReader.Read(document.RootElement);

        // Assert: every byte of the text, its framing and the request's.
        Assert.False(bound.HasUnmeasured);
        Assert.False(bound.ServerLoop);
        Assert.True(bound.MeasuredTokens >= Encoding.UTF8.GetByteCount(decoded) + InputBoundReader.RequestOverheadTokens + InputBoundReader.MessageOverheadTokens);
    }

    [Theory]
    [InlineData("""{"type":"document","source":{"type":"url","url":"https://example.com/a.pdf"}}""")]
    [InlineData("""{"type":"document","source":{"type":"file","file_id":"file_01"}}""")]
    [InlineData("""{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0xLjUK"}}""")]
    [InlineData("""{"type":"image","source":{"type":"url","url":"https://example.com/a.png"}}""")]
    [InlineData("""{"type":"image","source":{"type":"file","file_id":"file_02"}}""")]
    [InlineData("""{"type":"container_upload","file_id":"file_03"}""")]
    [InlineData("""{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result","encrypted_content":"EqgfCioIARgBIiQ3YTAwMjY1Mi1mZjM5LTQ1NGUtODgxNC1kNjNjNTk1ZWI3Y2E"}]}""")]
    [InlineData("""{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"document","source":{"type":"url","url":"https://example.com/b.pdf"}}]}""")]
    public void Read_MarksInputUnmeasured_WhenTheUpstreamExpandsWhatTheGatewayCannotSee(string block)
    {
        // Arrange
        using var document = JsonDocument.Parse($$"""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{{block}}]}]}""");

        // Act
        var bound = InputBoundReader.Read(document.RootElement);

        // Assert
        Assert.True(bound.HasUnmeasured);
    }

    [Theory]
    [InlineData("""{"tools":[{"type":"web_search_20250305","name":"web_search","max_uses":3},{"type":"web_fetch_20250910","name":"web_fetch","max_uses":2}]}""", 5L)]
    [InlineData("""{"tools":[{"type":"web_search_20250305","name":"web_search","max_uses":3},{"type":"code_execution_20250825","name":"code_execution"}]}""", null)]
    [InlineData("""{"mcp_servers":[{"type":"url","url":"https://example.com/mcp","name":"example"}]}""", null)]
    public void Read_FindsServerLoops_AndTheirMaxUsesWhenEveryToolStatesOne(string extra, long? maxUses)
    {
        // Arrange
        using var tools = JsonDocument.Parse(extra);
        var fields = string.Join(',', tools.RootElement.EnumerateObject().Select(static p => p.ToString()));
        using var document = JsonDocument.Parse($$"""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"Hi"}],{{fields}}}""");

        // Act
        var bound = InputBoundReader.Read(document.RootElement);

        // Assert
        Assert.True(bound.ServerLoop);
        Assert.True(bound.HasUnmeasured);
        Assert.Equal(maxUses, bound.MaxUses);
    }

    [Theory]
    [InlineData("""{"type":"search_result","source":"https://example.com/kb/1","title":"Refunds","content":[{"type":"text","text":"Within 30 days."}]}""")]
    [InlineData("""{"type":"document","source":{"type":"text","media_type":"text/plain","data":"Plain text"}}""")]
    [InlineData("""{"type":"document","source":{"type":"content","content":[{"type":"text","text":"Chunk"}]}}""")]
    [InlineData("""{"type":"tool_result","tool_use_id":"toolu_1","content":"72°F"}""")]
    public void Read_CountsInlineContentAsMeasured(string block)
    {
        // Arrange
        using var document = JsonDocument.Parse($$"""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{{block}}]}]}""");

        // Act
        var bound = InputBoundReader.Read(document.RootElement);

        // Assert
        Assert.False(bound.HasUnmeasured);
    }

    [Fact]
    public void Read_CountsClientToolsAndInlineImagesAsMeasured()
    {
        // Arrange: a custom tool, Anthropic's bash tool, and a base64 image (Claude resizes every image).
        using var document = JsonDocument.Parse("""
            {"model":"m","max_tokens":5,
             "tools":[{"name":"get_weather","input_schema":{"type":"object"}},{"type":"bash_20250124","name":"bash"}],
             "messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]}]}
            """);

        // Act
        var bound = InputBoundReader.Read(document.RootElement);

        // Assert
        Assert.False(bound.HasUnmeasured);
        Assert.False(bound.ServerLoop);
        Assert.True(bound.MeasuredTokens >= InputBoundReader.ToolSystemPromptTokens + InputBoundReader.AnthropicClientToolTokens + InputBoundReader.ImageTokens);
    }
}
