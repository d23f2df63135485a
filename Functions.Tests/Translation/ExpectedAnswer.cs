using System.Text.Json.Nodes;

namespace Qhaigc.Functions.Tests.Translation;

/// <summary>
/// What every combination of client format and upstream kind must show for one scripted answer: the fakes of both
/// kinds answer with the same text, tool call and usage (in Claude's terms).
/// </summary>
public sealed record ExpectedAnswer(string? Text, bool ToolUse, string StopReason, long Input, long CacheCreation, long CacheRead, long Output)
{
    public const string ToolName = "get_weather";

    public static readonly JsonNode ToolInput = JsonNode.Parse("""{"location":"San Francisco, CA","unit":"fahrenheit"}""")!;

    public static ExpectedAnswer For(bool stream, bool tool) => (stream, tool) switch
    {
        (false, false) => new("Hello, world — ünïcödé ✓", false, "end_turn", 25, 100, 2000, 15),
        (true, false) => new("Hello, world — ünïcödé ✓", false, "end_turn", 25, 0, 0, 15),
        (false, true) => new(null, true, "tool_use", 472, 0, 128, 89),
        (true, true) => new("Let me check the weather.", true, "tool_use", 472, 0, 128, 89),
    };

    /// <summary>OpenAI's prompt tokens include both cache fields (docs/openai-compatibility.md#7-usage).</summary>
    public long PromptTokens => Input + CacheCreation + CacheRead;

    public string FinishReason => ToolUse ? "tool_calls" : "stop";

    public static bool SameJson(string json) => JsonNode.DeepEquals(JsonNode.Parse(json), ToolInput);
}
