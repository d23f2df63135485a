using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Qhaigc.Functions.Translation;

/// <summary>
/// A Claude message → an OpenAI <c>chat.completion</c> (docs/openai-compatibility.md#4-answers-claude-to-openai, docs/openai-compatibility.md#6-stop-reasons, docs/openai-compatibility.md#7-usage): text blocks joined into
/// <c>content</c> (null when there are none), <c>tool_use</c> blocks as <c>tool_calls</c> with the input serialized as
/// <c>arguments</c>, thinking as the non-standard <c>reasoning_content</c>.
/// </summary>
public static class ClaudeMessageToChat
{
    /// <summary>Translates; null when the body is not a Claude message.</summary>
    public static byte[]? Translate(ReadOnlySpan<byte> json, string completionId, long created, string model)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !JsonValues.TryGet(root, "content", JsonValueKind.Array, out var content))
            {
                return null;
            }

            var text = new StringBuilder();
            var reasoning = new StringBuilder();
            var hasText = false;
            foreach (var block in content.EnumerateArray())
            {
                switch (JsonValues.GetString(block, "type"))
                {
                    case "text":
                        hasText = true;
                        text.Append(JsonValues.GetString(block, "text"));
                        break;
                    case "thinking":
                        reasoning.Append(JsonValues.GetString(block, "thinking"));
                        break;
                }
            }

            var buffer = new ArrayBufferWriter<byte>(json.Length + 256);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("id"u8, completionId);
                writer.WriteString("object"u8, "chat.completion"u8);
                writer.WriteNumber("created"u8, created);
                writer.WriteString("model"u8, model);
                writer.WriteStartArray("choices"u8);
                writer.WriteStartObject();
                writer.WriteNumber("index"u8, 0);
                writer.WriteStartObject("message"u8);
                writer.WriteString("role"u8, "assistant"u8);
                if (hasText)
                {
                    writer.WriteString("content"u8, text.ToString());
                }
                else
                {
                    writer.WriteNull("content"u8);
                }

                writer.WriteNull("refusal"u8);
                if (reasoning.Length > 0)
                {
                    writer.WriteString("reasoning_content"u8, reasoning.ToString());
                }

                var toolCount = 0;
                foreach (var block in content.EnumerateArray())
                {
                    if (JsonValues.GetString(block, "type") != "tool_use")
                    {
                        continue;
                    }

                    if (toolCount++ == 0)
                    {
                        writer.WriteStartArray("tool_calls"u8);
                    }

                    writer.WriteStartObject();
                    writer.WriteString("id"u8, JsonValues.GetString(block, "id"));
                    writer.WriteString("type"u8, "function"u8);
                    writer.WriteStartObject("function"u8);
                    writer.WriteString("name"u8, JsonValues.GetString(block, "name"));
                    writer.WriteString("arguments"u8, block.TryGetProperty("input", out var input) ? input.GetRawText() : "{}");
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }

                if (toolCount > 0)
                {
                    writer.WriteEndArray();
                }

                writer.WriteEndObject();
                writer.WriteNull("logprobs"u8);
                writer.WriteString("finish_reason"u8, StopReasons.ToFinishReason(JsonValues.GetString(root, "stop_reason")));
                writer.WriteEndObject();
                writer.WriteEndArray();
                var usage = JsonValues.TryGet(root, "usage", JsonValueKind.Object, out var usageElement)
                    ? UsageNumbers.FromClaude(usageElement)
                    : default;
                usage.WriteOpenAi(writer);
                writer.WriteEndObject();
            }

            return buffer.WrittenSpan.ToArray();
        }
    }
}
