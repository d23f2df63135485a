using System.Buffers;
using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Translation;

/// <summary>
/// An OpenAI <c>chat.completion</c> → a Claude message (docs/openai-compatibility.md#4-answers-claude-to-openai, docs/openai-compatibility.md#6-stop-reasons, docs/openai-compatibility.md#7-usage): reasoning becomes a thinking block (with
/// no signature, so it is never sent on to an Anthropic upstream), then text, then one <c>tool_use</c> block per call
/// with its parsed arguments. Without usage from the upstream, the numbers are estimated and flagged.
/// </summary>
public static class ChatCompletionToClaude
{
    public static byte[]? Translate(ReadOnlySpan<byte> json, ChatAnswerContext context, out bool usageEstimated, out ApiError? error)
    {
        usageEstimated = false;
        error = null;
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            error = ApiError.From(ApiErrorKind.Internal, "The upstream answered with a body that is not JSON.");
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !JsonValues.TryGet(root, "choices", JsonValueKind.Array, out var choices) ||
                choices.GetArrayLength() == 0 || !JsonValues.TryGet(choices[0], "message", JsonValueKind.Object, out var message))
            {
                error = ErrorEnvelope.TryRead(json, out _, out var text)
                    ? new ApiError(500, ErrorTypes.Api, text ?? "The upstream failed.")
                    : ApiError.From(ApiErrorKind.Internal, "The upstream answered without a choice.");
                return null;
            }

            var choice = choices[0];
            var reasoning = JsonValues.GetString(message, "reasoning_content") ?? JsonValues.GetString(message, "reasoning");
            var content = ContentText(message);
            var refusal = JsonValues.GetString(message, "refusal");
            var finish = JsonValues.GetString(choice, "finish_reason");
            var stopReason = refusal is not null && content.Length == 0 ? "refusal" : StopReasons.ToStopReason(finish);
            string? stopSequence = null;
            if (finish == "stop")
            {
                var matcher = new StopSequenceMatcher(context.StopSequences);
                matcher.Append(content);
                stopSequence = matcher.Match(JsonValues.GetString(choice, "stop_reason"));
                if (stopSequence is not null)
                {
                    stopReason = "stop_sequence";
                }
            }

            UsageNumbers usage;
            if (JsonValues.TryGet(root, "usage", JsonValueKind.Object, out var usageElement))
            {
                usage = UsageNumbers.FromOpenAi(usageElement);
            }
            else
            {
                usageEstimated = true;
                usage = new UsageNumbers(context.EstimateInputTokens(),
                    Math.Max(1, context.CountTokens(content) + context.CountTokens(reasoning ?? "") + context.CountTokens(ToolCallText(message))), 0, 0);
            }

            var buffer = new ArrayBufferWriter<byte>(json.Length + 256);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("id"u8, Ids.NewMessageId());
                writer.WriteString("type"u8, "message"u8);
                writer.WriteString("role"u8, "assistant"u8);
                writer.WriteString("model"u8, context.Model);
                writer.WriteStartArray("content"u8);
                if (!string.IsNullOrEmpty(reasoning))
                {
                    writer.WriteStartObject();
                    writer.WriteString("type"u8, "thinking"u8);
                    writer.WriteString("thinking"u8, reasoning);
                    writer.WriteString("signature"u8, ""u8);
                    writer.WriteEndObject();
                }

                var text = content.Length > 0 ? content : refusal ?? "";
                if (text.Length > 0)
                {
                    writer.WriteStartObject();
                    writer.WriteString("type"u8, "text"u8);
                    writer.WriteString("text"u8, text);
                    writer.WriteEndObject();
                }

                if (JsonValues.TryGet(message, "tool_calls", JsonValueKind.Array, out var calls))
                {
                    foreach (var call in calls.EnumerateArray())
                    {
                        call.TryGetProperty("function", out var function);
                        writer.WriteStartObject();
                        writer.WriteString("type"u8, "tool_use"u8);
                        writer.WriteString("id"u8, ToolIds.Sanitize(JsonValues.GetString(call, "id")));
                        writer.WriteString("name"u8, context.ToolNames.Restore(JsonValues.GetString(function, "name") ?? ""));
                        writer.WritePropertyName("input"u8);
                        ToolArguments.WriteInput(writer, JsonValues.GetString(function, "arguments"));
                        writer.WriteEndObject();
                    }
                }

                writer.WriteEndArray();
                writer.WriteString("stop_reason"u8, stopReason);
                if (stopSequence is null)
                {
                    writer.WriteNull("stop_sequence"u8);
                }
                else
                {
                    writer.WriteString("stop_sequence"u8, stopSequence);
                }

                usage.WriteClaude(writer);
                writer.WriteEndObject();
            }

            return buffer.WrittenSpan.ToArray();
        }
    }

    /// <summary><c>message.content</c> as text: a string, or the text of its parts.</summary>
    private static string ContentText(JsonElement message)
    {
        if (!message.TryGetProperty("content", out var content))
        {
            return "";
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return "";
        }

        var builder = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            builder.Append(JsonValues.GetString(part, "text"));
        }

        return builder.ToString();
    }

    private static string ToolCallText(JsonElement message)
    {
        if (!JsonValues.TryGet(message, "tool_calls", JsonValueKind.Array, out var calls))
        {
            return "";
        }

        var builder = new StringBuilder();
        foreach (var call in calls.EnumerateArray())
        {
            if (call.TryGetProperty("function", out var function))
            {
                builder.Append(JsonValues.GetString(function, "name")).Append(JsonValues.GetString(function, "arguments"));
            }
        }

        return builder.ToString();
    }
}
