using System.Buffers;
using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Translation;

/// <summary>
/// A Claude Messages request → an OpenAI Chat Completions request (docs/openai-compatibility.md#92-requests-claude-to-openai): <c>system</c> becomes a leading system
/// message, <c>tool_result</c> blocks become tool messages ahead of the rest of their turn, <c>tool_use</c> becomes
/// <c>tool_calls</c>, images become data URLs. Thinking blocks, <c>top_k</c>, cache control and server tools have no
/// OpenAI meaning and are dropped. Streams always ask for usage.
/// </summary>
public static class ClaudeRequestToChat
{
    /// <summary>Translates a validated request; a 400 for content an OpenAI-compatible upstream cannot take.</summary>
    public static ChatUpstreamRequest? Translate(JsonElement root, string upstreamModel, ChatUpstreamOptions options, out ApiError? error)
    {
        error = null;
        var names = new ToolNames();
        var stops = new List<string>();
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model"u8, upstreamModel);
            writer.WriteStartArray("messages"u8);
            if (root.TryGetProperty("system", out var system) && SystemText(system) is { Length: > 0 } systemText)
            {
                WriteTextMessage(writer, "system", systemText);
            }

            var index = 0;
            foreach (var message in root.GetProperty("messages").EnumerateArray())
            {
                error = WriteMessage(writer, message, "messages." + index++, names);
                if (error is not null)
                {
                    return null;
                }
            }

            writer.WriteEndArray();

            var maxTokens = JsonValues.GetLong(root, "max_tokens");
            if (maxTokens is not null)
            {
                writer.WriteNumber(options.MaxTokensParameter, maxTokens.Value);
            }

            var stream = root.TryGetProperty("stream", out var streamElement) && streamElement.ValueKind == JsonValueKind.True;
            if (stream)
            {
                writer.WriteBoolean("stream"u8, true);
                writer.WriteStartObject("stream_options"u8);
                writer.WriteBoolean("include_usage"u8, true);
                writer.WriteEndObject();
            }

            foreach (var name in (ReadOnlySpan<string>)["temperature", "top_p"])
            {
                if (JsonValues.TryGet(root, name, JsonValueKind.Number, out var number))
                {
                    writer.WritePropertyName(name);
                    number.WriteTo(writer);
                }
            }

            if (JsonValues.TryGet(root, "stop_sequences", JsonValueKind.Array, out var stopSequences) && stopSequences.GetArrayLength() > 0)
            {
                writer.WriteStartArray("stop"u8);
                foreach (var stop in stopSequences.EnumerateArray())
                {
                    stops.Add(stop.GetString()!);
                    writer.WriteStringValue(stop.GetString());
                }

                writer.WriteEndArray();
            }

            if (root.TryGetProperty("metadata", out var metadata) && JsonValues.GetString(metadata, "user_id") is { } user)
            {
                writer.WriteString("user"u8, user);
            }

            WriteTools(writer, root, names);
            WriteReasoning(writer, root);
            WriteResponseFormat(writer, root);
            writer.WriteEndObject();
        }

        return new ChatUpstreamRequest(buffer.WrittenSpan.ToArray(), names, stops);
    }

    /// <summary>Claude's <c>system</c> (a string or text blocks) as one text, blocks joined by a blank line.</summary>
    public static string? SystemText(JsonElement system)
    {
        if (system.ValueKind == JsonValueKind.String)
        {
            return system.GetString();
        }

        if (system.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var builder = new StringBuilder();
        foreach (var block in system.EnumerateArray())
        {
            if (JsonValues.GetString(block, "text") is { Length: > 0 } text)
            {
                if (builder.Length > 0)
                {
                    builder.Append("\n\n");
                }

                builder.Append(text);
            }
        }

        return builder.ToString();
    }

    private static ApiError? WriteMessage(Utf8JsonWriter writer, JsonElement message, string path, ToolNames names)
    {
        var role = message.GetProperty("role").GetString()!;
        var content = message.GetProperty("content");
        if (content.ValueKind == JsonValueKind.String)
        {
            WriteTextMessage(writer, role, content.GetString()!);
            return null;
        }

        return role == "assistant"
            ? WriteAssistant(writer, content, names)
            : WriteUser(writer, role, content, path + ".content");
    }

    private static ApiError? WriteUser(Utf8JsonWriter writer, string role, JsonElement content, string path)
    {
        // Tool results first, each its own tool message; images inside them follow in a user message.
        var images = new List<JsonElement>();
        foreach (var block in content.EnumerateArray())
        {
            if (JsonValues.GetString(block, "type") != "tool_result")
            {
                continue;
            }

            var text = new StringBuilder();
            if (block.TryGetProperty("content", out var resultContent))
            {
                if (resultContent.ValueKind == JsonValueKind.String)
                {
                    text.Append(resultContent.GetString());
                }
                else if (resultContent.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in resultContent.EnumerateArray())
                    {
                        switch (JsonValues.GetString(item, "type"))
                        {
                            case "text":
                                if (text.Length > 0)
                                {
                                    text.Append('\n');
                                }

                                text.Append(JsonValues.GetString(item, "text"));
                                break;
                            case "image":
                                images.Add(item);
                                break;
                        }
                    }
                }
            }

            writer.WriteStartObject();
            writer.WriteString("role"u8, "tool"u8);
            writer.WriteString("tool_call_id"u8, block.GetProperty("tool_use_id").GetString());
            writer.WriteString("content"u8, text.ToString());
            writer.WriteEndObject();
        }

        var parts = new List<JsonElement>(images);
        var index = 0;
        foreach (var block in content.EnumerateArray())
        {
            var blockPath = path + "." + index++;
            switch (JsonValues.GetString(block, "type"))
            {
                case "text" or "image":
                    parts.Add(block);
                    break;
                case "document":
                    if (!IsWritableDocument(block))
                    {
                        return ApiError.InvalidRequest(blockPath + ".source: only base64 PDF and plain-text documents can be sent to this model");
                    }

                    parts.Add(block);
                    break;
                case "search_result":
                    parts.Add(block);
                    break;
            }
        }

        if (parts.Count == 0)
        {
            return null;
        }

        writer.WriteStartObject();
        writer.WriteString("role"u8, role == "system" ? "system" : "user");
        if (parts.TrueForAll(static p => JsonValues.GetString(p, "type") is "text"))
        {
            // Plain text as a string: older OpenAI-compatible servers take no content arrays.
            writer.WriteString("content"u8, string.Join('\n', parts.Select(static p => JsonValues.GetString(p, "text"))));
        }
        else
        {
            writer.WriteStartArray("content"u8);
            foreach (var part in parts)
            {
                WritePart(writer, part);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        return null;
    }

    private static bool IsWritableDocument(JsonElement block)
    {
        if (!block.TryGetProperty("source", out var source))
        {
            return false;
        }

        return JsonValues.GetString(source, "type") switch
        {
            "base64" => JsonValues.GetString(source, "media_type") == "application/pdf",
            "text" => true,
            _ => false,
        };
    }

    private static void WritePart(Utf8JsonWriter writer, JsonElement block)
    {
        writer.WriteStartObject();
        switch (JsonValues.GetString(block, "type"))
        {
            case "text":
                writer.WriteString("type"u8, "text"u8);
                writer.WriteString("text"u8, JsonValues.GetString(block, "text"));
                break;
            case "image":
                var source = block.GetProperty("source");
                writer.WriteString("type"u8, "image_url"u8);
                writer.WriteStartObject("image_url"u8);
                writer.WriteString("url"u8, JsonValues.GetString(source, "type") == "base64"
                    ? DataUrl.Format(JsonValues.GetString(source, "media_type") ?? "image/png", JsonValues.GetString(source, "data") ?? "")
                    : JsonValues.GetString(source, "url") ?? "");
                writer.WriteEndObject();
                break;
            case "document":
                var document = block.GetProperty("source");
                if (JsonValues.GetString(document, "type") == "text")
                {
                    writer.WriteString("type"u8, "text"u8);
                    writer.WriteString("text"u8, JsonValues.GetString(document, "data"));
                }
                else
                {
                    writer.WriteString("type"u8, "file"u8);
                    writer.WriteStartObject("file"u8);
                    writer.WriteString("filename"u8, (JsonValues.GetString(block, "title") ?? "document") + ".pdf");
                    writer.WriteString("file_data"u8, DataUrl.Format("application/pdf", JsonValues.GetString(document, "data") ?? ""));
                    writer.WriteEndObject();
                }

                break;
            default:
                // search_result: its text blocks, as text.
                writer.WriteString("type"u8, "text"u8);
                var text = new StringBuilder();
                if (block.TryGetProperty("content", out var items) && items.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in items.EnumerateArray())
                    {
                        text.Append(JsonValues.GetString(item, "text")).Append('\n');
                    }
                }

                writer.WriteString("text"u8, text.ToString().TrimEnd('\n'));
                break;
        }

        writer.WriteEndObject();
    }

    private static ApiError? WriteAssistant(Utf8JsonWriter writer, JsonElement content, ToolNames names)
    {
        var text = new StringBuilder();
        var calls = new List<JsonElement>();
        foreach (var block in content.EnumerateArray())
        {
            switch (JsonValues.GetString(block, "type"))
            {
                case "text":
                    text.Append(JsonValues.GetString(block, "text"));
                    break;
                case "tool_use":
                    calls.Add(block);
                    break;
            }
        }

        if (text.Length == 0 && calls.Count == 0)
        {
            return null;
        }

        writer.WriteStartObject();
        writer.WriteString("role"u8, "assistant"u8);
        if (text.Length > 0)
        {
            writer.WriteString("content"u8, text.ToString());
        }
        else
        {
            writer.WriteNull("content"u8);
        }

        if (calls.Count > 0)
        {
            writer.WriteStartArray("tool_calls"u8);
            foreach (var call in calls)
            {
                writer.WriteStartObject();
                writer.WriteString("id"u8, call.GetProperty("id").GetString());
                writer.WriteString("type"u8, "function"u8);
                writer.WriteStartObject("function"u8);
                writer.WriteString("name"u8, names.Shorten(call.GetProperty("name").GetString()!));
                writer.WriteString("arguments"u8, call.GetProperty("input").GetRawText());
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        return null;
    }

    private static void WriteTextMessage(Utf8JsonWriter writer, string role, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("role"u8, role);
        writer.WriteString("content"u8, text);
        writer.WriteEndObject();
    }

    private static void WriteTools(Utf8JsonWriter writer, JsonElement root, ToolNames names)
    {
        var count = 0;
        if (JsonValues.TryGet(root, "tools", JsonValueKind.Array, out var tools))
        {
            foreach (var tool in tools.EnumerateArray())
            {
                // Server tools (web search, code execution…) run at Anthropic; an OpenAI-compatible upstream has none.
                if ((JsonValues.GetString(tool, "type") is { } type && type != "custom") ||
                    JsonValues.GetString(tool, "name") is not { } name || !JsonValues.TryGet(tool, "input_schema", JsonValueKind.Object, out var schema))
                {
                    continue;
                }

                if (count++ == 0)
                {
                    writer.WriteStartArray("tools"u8);
                }

                writer.WriteStartObject();
                writer.WriteString("type"u8, "function"u8);
                writer.WriteStartObject("function"u8);
                writer.WriteString("name"u8, names.Shorten(name));
                if (JsonValues.GetString(tool, "description") is { } description)
                {
                    writer.WriteString("description"u8, description);
                }

                writer.WritePropertyName("parameters"u8);
                schema.WriteTo(writer);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            if (count > 0)
            {
                writer.WriteEndArray();
            }
        }

        if (count == 0 || !JsonValues.TryGet(root, "tool_choice", JsonValueKind.Object, out var choice))
        {
            return;
        }

        switch (JsonValues.GetString(choice, "type"))
        {
            case "auto":
                writer.WriteString("tool_choice"u8, "auto"u8);
                break;
            case "any":
                writer.WriteString("tool_choice"u8, "required"u8);
                break;
            case "none":
                writer.WriteString("tool_choice"u8, "none"u8);
                break;
            case "tool":
                writer.WriteStartObject("tool_choice"u8);
                writer.WriteString("type"u8, "function"u8);
                writer.WriteStartObject("function"u8);
                writer.WriteString("name"u8, names.Shorten(JsonValues.GetString(choice, "name") ?? ""));
                writer.WriteEndObject();
                writer.WriteEndObject();
                break;
        }

        if (choice.TryGetProperty("disable_parallel_tool_use", out var serial) && serial.ValueKind == JsonValueKind.True)
        {
            writer.WriteBoolean("parallel_tool_calls"u8, false);
        }
    }

    private static void WriteReasoning(Utf8JsonWriter writer, JsonElement root)
    {
        if (!JsonValues.TryGet(root, "thinking", JsonValueKind.Object, out var thinking))
        {
            return;
        }

        var effort = JsonValues.GetString(thinking, "type") switch
        {
            "enabled" => (JsonValues.GetLong(thinking, "budget_tokens") ?? ChatRequestToClaude.MediumBudget) switch
            {
                <= ChatRequestToClaude.LowBudget => "low",
                <= ChatRequestToClaude.MediumBudget => "medium",
                _ => "high",
            },
            "adaptive" => "medium",
            _ => null,
        };
        if (effort is not null)
        {
            writer.WriteString("reasoning_effort"u8, effort);
        }
    }

    private static void WriteResponseFormat(Utf8JsonWriter writer, JsonElement root)
    {
        if (!root.TryGetProperty("output_config", out var config) || !config.TryGetProperty("format", out var format) ||
            JsonValues.GetString(format, "type") != "json_schema" || !JsonValues.TryGet(format, "schema", JsonValueKind.Object, out var schema))
        {
            return;
        }

        writer.WriteStartObject("response_format"u8);
        writer.WriteString("type"u8, "json_schema"u8);
        writer.WriteStartObject("json_schema"u8);
        writer.WriteString("name"u8, "output"u8);
        writer.WritePropertyName("schema"u8);
        schema.WriteTo(writer);
        writer.WriteBoolean("strict"u8, true);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
