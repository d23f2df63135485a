using System.Buffers;
using System.Text.Json;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Translation;

/// <summary>
/// An OpenAI Chat Completions request → a Claude Messages request (see docs/openai-compatibility.md). This class checks
/// the request's frame (<c>model</c>, <c>messages</c>) and writes the body; each part is translated by its own type:
/// the messages by <see cref="ChatMessagesToClaude"/>, the options by <see cref="ChatOptionsToClaude"/>, the tools by
/// <see cref="ChatToolsToClaude"/>. Fields with no Claude meaning are dropped; input Claude cannot take (audio, several
/// choices) is a 400 with the field's path.
/// </summary>
public static class ChatRequestToClaude
{
    /// <summary>Reasoning budgets per <c>reasoning_effort</c> (new-api's values).</summary>
    public const int LowBudget = 1280;
    public const int MediumBudget = 2048;
    public const int HighBudget = 4096;

    /// <summary>Translates; returns the Claude body, or null with a 400 error.</summary>
    public static byte[]? Translate(JsonElement root, ChatRequestOptions options, out ApiError? error)
    {
        error = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = ApiError.InvalidRequest("Input should be a valid dictionary");
            return null;
        }

        if (!root.TryGetProperty("model", out var model) || model.ValueKind == JsonValueKind.Null)
        {
            error = ApiError.InvalidRequest("model: Field required");
            return null;
        }

        if (model.ValueKind != JsonValueKind.String || model.GetString()!.Length == 0)
        {
            error = ApiError.InvalidRequest("model: Input should be a non-empty string");
            return null;
        }

        if (!root.TryGetProperty("messages", out var messages))
        {
            error = ApiError.InvalidRequest("messages: Field required");
            return null;
        }

        if (messages.ValueKind != JsonValueKind.Array)
        {
            error = ApiError.InvalidRequest("messages: Input should be a valid list");
            return null;
        }

        // :: Read. Every message first, then the options; the first 400 found is the answer.
        var system = new List<string>();
        var turns = new List<ClaudeTurn>();
        error = ChatMessagesToClaude.Read(messages, system, turns);
        if (error is not null)
        {
            return null;
        }

        error = ChatOptionsToClaude.Read(root, options, out var maxTokens, out var budget);
        if (error is not null)
        {
            return null;
        }

        // :: Write. Options that can still be refused are checked as they are written.
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model"u8, model.GetString());
            writer.WriteNumber("max_tokens"u8, maxTokens);
            ChatMessagesToClaude.Write(writer, system, turns);
            error = ChatOptionsToClaude.Write(root, options, writer)
                    ?? ChatToolsToClaude.Write(root, writer)
                    ?? ChatOptionsToClaude.WriteThinking(budget, writer)
                    ?? ChatOptionsToClaude.WriteResponseFormat(root, writer);
            writer.WriteEndObject();
        }

        return error is null ? buffer.WrittenSpan.ToArray() : null;
    }
}
