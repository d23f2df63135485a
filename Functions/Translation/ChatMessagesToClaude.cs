using System.Text.Json;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Translation;

/// <summary>
/// The messages of a Chat Completions request → Claude's <c>system</c> and <c>messages</c> (see
/// docs/openai-compatibility.md): system and developer messages become <c>system</c> blocks, tool messages become
/// <c>tool_result</c> blocks leading a user turn, consecutive turns of one role merge; audio and file ids are a 400
/// with the field's path.
/// </summary>
internal static class ChatMessagesToClaude
{
    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement;

    /// <summary>Reads the <c>messages</c> list into system texts and turns; a 400 when one cannot be translated.</summary>
    public static ApiError? Read(JsonElement messages, List<string> system, List<ClaudeTurn> turns)
    {
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (ReadMessage(message, "messages." + index++, system, turns) is { } error)
            {
                return error;
            }
        }

        turns.RemoveAll(static turn => turn.Blocks.Count == 0);
        return turns.Count == 0
            ? ApiError.InvalidRequest("messages: at least one user or assistant message with content is required")
            : null;
    }

    /// <summary>Writes <c>system</c> (when there is any) and <c>messages</c>.</summary>
    public static void Write(Utf8JsonWriter writer, List<string> system, List<ClaudeTurn> turns)
    {
        if (system.Count > 0)
        {
            writer.WriteStartArray("system"u8);
            foreach (var text in system)
            {
                writer.WriteStartObject();
                writer.WriteString("type"u8, "text"u8);
                writer.WriteString("text"u8, text);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteStartArray("messages"u8);
        foreach (var turn in turns)
        {
            writer.WriteStartObject();
            writer.WriteString("role"u8, turn.Role);
            writer.WriteStartArray("content"u8);
            foreach (var block in turn.Blocks)
            {
                block(writer);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static ApiError? ReadMessage(JsonElement message, string path, List<string> system, List<ClaudeTurn> turns)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            return ApiError.InvalidRequest(path + ": Input should be a valid dictionary");
        }

        var role = JsonValues.GetString(message, "role");
        message.TryGetProperty("content", out var content);
        switch (role)
        {
            case "system" or "developer":
                return ReadSystem(content, path + ".content", system);
            case "user":
                return ReadUser(content, path + ".content", ClaudeTurn.Of(turns, "user"));
            case "assistant":
                return ReadAssistant(message, path, ClaudeTurn.Of(turns, "assistant"));
            case "tool":
                return ReadToolResult(message, path, ClaudeTurn.Of(turns, "user"));
            case null:
                return ApiError.InvalidRequest(path + ".role: Field required");
            default:
                return ApiError.InvalidRequest(path + ".role: Input should be 'system', 'developer', 'user', 'assistant' or 'tool'");
        }
    }

    private static ApiError? ReadSystem(JsonElement content, string path, List<string> system)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                if (content.GetString() is { Length: > 0 } text)
                {
                    system.Add(text);
                }

                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var part in content.EnumerateArray())
                {
                    var partPath = path + "." + index++;
                    if (JsonValues.GetString(part, "type") != "text" || !JsonValues.TryGet(part, "text", JsonValueKind.String, out var textElement))
                    {
                        return ApiError.InvalidRequest(partPath + ": system and developer messages take text parts only");
                    }

                    if (textElement.GetString() is { Length: > 0 } partText)
                    {
                        system.Add(partText);
                    }
                }

                return null;
            default:
                return ApiError.InvalidRequest(path + ": Input should be a valid string or a list of content parts");
        }
    }

    private static ApiError? ReadUser(JsonElement content, string path, ClaudeTurn turn)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                turn.AddText(content.GetString()!);
                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var part in content.EnumerateArray())
                {
                    if (ReadUserPart(part, path + "." + index++, turn) is { } error)
                    {
                        return error;
                    }
                }

                return null;
            default:
                return ApiError.InvalidRequest(path + ": Input should be a valid string or a list of content parts");
        }
    }

    private static ApiError? ReadUserPart(JsonElement part, string path, ClaudeTurn turn)
    {
        switch (JsonValues.GetString(part, "type"))
        {
            case "text":
                if (!JsonValues.TryGet(part, "text", JsonValueKind.String, out var text))
                {
                    return ApiError.InvalidRequest(path + ".text: Input should be a valid string");
                }

                turn.AddText(text.GetString()!);
                return null;
            case "image_url":
                return ReadImage(part, path, turn);
            case "file":
                return ReadFile(part, path, turn);
            case "input_audio":
                return ApiError.InvalidRequest(path + ": audio input is not supported by this model");
            case null:
                return ApiError.InvalidRequest(path + ".type: Field required");
            default:
                return ApiError.InvalidRequest(path + ".type: Input should be 'text', 'image_url' or 'file'");
        }
    }

    private static ApiError? ReadImage(JsonElement part, string path, ClaudeTurn turn)
    {
        string? url = null;
        if (part.TryGetProperty("image_url", out var image))
        {
            url = image.ValueKind == JsonValueKind.String ? image.GetString() : JsonValues.GetString(image, "url");
        }

        if (string.IsNullOrEmpty(url))
        {
            return ApiError.InvalidRequest(path + ".image_url.url: Field required");
        }

        if (DataUrl.TryParse(url, out var data))
        {
            if (data.MediaType is not ("image/jpeg" or "image/png" or "image/gif" or "image/webp"))
            {
                return ApiError.InvalidRequest(path + ".image_url.url: image media type must be image/jpeg, image/png, image/gif or image/webp");
            }

            turn.Blocks.Add(writer => WriteBase64Source(writer, "image", data));
            return null;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return ApiError.InvalidRequest(path + ".image_url.url: must be an http(s) URL or a base64 data URL");
        }

        turn.Blocks.Add(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "image"u8);
            writer.WriteStartObject("source"u8);
            writer.WriteString("type"u8, "url"u8);
            writer.WriteString("url"u8, url);
            writer.WriteEndObject();
            writer.WriteEndObject();
        });
        return null;
    }

    private static ApiError? ReadFile(JsonElement part, string path, ClaudeTurn turn)
    {
        var fileData = part.TryGetProperty("file", out var file) ? JsonValues.GetString(file, "file_data") : null;
        if (fileData is null)
        {
            return ApiError.InvalidRequest(path + ".file.file_data: Field required (file ids are not supported)");
        }

        if (!DataUrl.TryParse(fileData, out var data) || data.MediaType != "application/pdf")
        {
            return ApiError.InvalidRequest(path + ".file.file_data: must be a base64 data URL of a PDF (data:application/pdf;base64,…)");
        }

        turn.Blocks.Add(writer => WriteBase64Source(writer, "document", data));
        return null;
    }

    private static void WriteBase64Source(Utf8JsonWriter writer, string type, DataUrl data)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, type);
        writer.WriteStartObject("source"u8);
        writer.WriteString("type"u8, "base64"u8);
        writer.WriteString("media_type"u8, data.MediaType);
        writer.WriteString("data"u8, data.Base64);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static ApiError? ReadAssistant(JsonElement message, string path, ClaudeTurn turn)
    {
        if (message.TryGetProperty("content", out var content))
        {
            switch (content.ValueKind)
            {
                case JsonValueKind.String:
                    turn.AddText(content.GetString()!);
                    break;
                case JsonValueKind.Array:
                    var index = 0;
                    foreach (var part in content.EnumerateArray())
                    {
                        var partPath = path + ".content." + index++;
                        var type = JsonValues.GetString(part, "type");
                        var text = type switch
                        {
                            "text" => JsonValues.GetString(part, "text"),
                            "refusal" => JsonValues.GetString(part, "refusal"),
                            _ => null,
                        };
                        if (text is null)
                        {
                            return ApiError.InvalidRequest(partPath + ": assistant messages take text and refusal parts only");
                        }

                        turn.AddText(text);
                    }

                    break;
                case JsonValueKind.Null:
                    break;
                default:
                    return ApiError.InvalidRequest(path + ".content: Input should be a valid string or a list of content parts");
            }
        }

        if (!JsonValues.Has(message, "tool_calls", out var calls))
        {
            return null;
        }

        if (calls.ValueKind != JsonValueKind.Array)
        {
            return ApiError.InvalidRequest(path + ".tool_calls: Input should be a valid list");
        }

        var callIndex = 0;
        foreach (var call in calls.EnumerateArray())
        {
            var callPath = path + ".tool_calls." + callIndex++;
            var id = JsonValues.GetString(call, "id");
            if (string.IsNullOrEmpty(id))
            {
                return ApiError.InvalidRequest(callPath + ".id: Field required");
            }

            if (!JsonValues.TryGet(call, "function", JsonValueKind.Object, out var function) ||
                JsonValues.GetString(function, "name") is not { Length: > 0 } name)
            {
                return ApiError.InvalidRequest(callPath + ".function.name: Field required");
            }

            var arguments = JsonValues.GetString(function, "arguments");
            JsonElement input;
            if (string.IsNullOrWhiteSpace(arguments))
            {
                input = EmptyObject;
            }
            else
            {
                try
                {
                    using var document = JsonDocument.Parse(arguments);
                    input = document.RootElement.Clone();
                }
                catch (JsonException)
                {
                    return ApiError.InvalidRequest(callPath + ".function.arguments: must be a JSON object");
                }

                if (input.ValueKind != JsonValueKind.Object)
                {
                    return ApiError.InvalidRequest(callPath + ".function.arguments: must be a JSON object");
                }
            }

            turn.Blocks.Add(writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("type"u8, "tool_use"u8);
                writer.WriteString("id"u8, id);
                writer.WriteString("name"u8, name);
                writer.WritePropertyName("input"u8);
                input.WriteTo(writer);
                writer.WriteEndObject();
            });
        }

        return null;
    }

    private static ApiError? ReadToolResult(JsonElement message, string path, ClaudeTurn turn)
    {
        if (JsonValues.GetString(message, "tool_call_id") is not { Length: > 0 } toolCallId)
        {
            return ApiError.InvalidRequest(path + ".tool_call_id: Field required");
        }

        message.TryGetProperty("content", out var content);
        var texts = new List<string>();
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                texts.Add(content.GetString()!);
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var part in content.EnumerateArray())
                {
                    if (JsonValues.GetString(part, "type") != "text" || JsonValues.GetString(part, "text") is not { } text)
                    {
                        return ApiError.InvalidRequest(path + ".content." + index + ": tool messages take text parts only");
                    }

                    texts.Add(text);
                    index++;
                }

                break;
            case JsonValueKind.Null or JsonValueKind.Undefined:
                break;
            default:
                return ApiError.InvalidRequest(path + ".content: Input should be a valid string or a list of content parts");
        }

        // Results go before anything else the user turn holds (Claude wants them first).
        turn.Blocks.Insert(turn.ResultCount++, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "tool_result"u8);
            writer.WriteString("tool_use_id"u8, toolCallId);
            writer.WriteStartArray("content"u8);
            foreach (var text in texts)
            {
                if (text.Length == 0)
                {
                    continue;
                }

                writer.WriteStartObject();
                writer.WriteString("type"u8, "text"u8);
                writer.WriteString("text"u8, text);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
        return null;
    }
}
