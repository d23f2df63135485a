using System.Buffers;
using System.Text.Json;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Translation;

/// <summary>
/// An OpenAI Chat Completions request → a Claude Messages request (spec §6.7): system and developer messages become
/// <c>system</c> blocks, tool messages become <c>tool_result</c> blocks in a user turn, consecutive turns of one role
/// merge, and the sampling, tool and reasoning options map to their Claude names. Fields with no Claude meaning are
/// dropped; input Claude cannot take (audio, several choices) is a 400 with the field's path.
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
            error = Invalid("Input should be a valid dictionary");
            return null;
        }

        if (!root.TryGetProperty("model", out var model) || model.ValueKind == JsonValueKind.Null)
        {
            error = Invalid("model: Field required");
            return null;
        }

        if (model.ValueKind != JsonValueKind.String || model.GetString()!.Length == 0)
        {
            error = Invalid("model: Input should be a non-empty string");
            return null;
        }

        if (!root.TryGetProperty("messages", out var messages))
        {
            error = Invalid("messages: Field required");
            return null;
        }

        if (messages.ValueKind != JsonValueKind.Array)
        {
            error = Invalid("messages: Input should be a valid list");
            return null;
        }

        var system = new List<string>();
        var turns = new List<Turn>();
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            error = ReadMessage(message, "messages." + index++, system, turns);
            if (error is not null)
            {
                return null;
            }
        }

        turns.RemoveAll(static turn => turn.Blocks.Count == 0);
        if (turns.Count == 0)
        {
            error = Invalid("messages: at least one user or assistant message with content is required");
            return null;
        }

        var budget = 0;
        error = ReadMaxTokens(root, options, out var maxTokens)
                ?? ReadThinking(root, ref maxTokens, out budget)
                ?? CheckChoices(root);
        if (error is not null)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model"u8, model.GetString());
            writer.WriteNumber("max_tokens"u8, maxTokens);
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
            error = WriteOptions(root, options, budget, writer);
            writer.WriteEndObject();
        }

        return error is null ? buffer.WrittenSpan.ToArray() : null;
    }

    private static ApiError? ReadMessage(JsonElement message, string path, List<string> system, List<Turn> turns)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            return Invalid(path + ": Input should be a valid dictionary");
        }

        var role = JsonValues.GetString(message, "role");
        message.TryGetProperty("content", out var content);
        switch (role)
        {
            case "system" or "developer":
                return ReadSystem(content, path + ".content", system);
            case "user":
                return ReadUser(content, path + ".content", Turn.Of(turns, "user"));
            case "assistant":
                return ReadAssistant(message, path, Turn.Of(turns, "assistant"));
            case "tool":
                return ReadToolResult(message, path, Turn.Of(turns, "user"));
            case null:
                return Invalid(path + ".role: Field required");
            default:
                return Invalid(path + ".role: Input should be 'system', 'developer', 'user', 'assistant' or 'tool'");
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
                        return Invalid(partPath + ": system and developer messages take text parts only");
                    }

                    if (textElement.GetString() is { Length: > 0 } partText)
                    {
                        system.Add(partText);
                    }
                }

                return null;
            default:
                return Invalid(path + ": Input should be a valid string or a list of content parts");
        }
    }

    private static ApiError? ReadUser(JsonElement content, string path, Turn turn)
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
                return Invalid(path + ": Input should be a valid string or a list of content parts");
        }
    }

    private static ApiError? ReadUserPart(JsonElement part, string path, Turn turn)
    {
        switch (JsonValues.GetString(part, "type"))
        {
            case "text":
                if (!JsonValues.TryGet(part, "text", JsonValueKind.String, out var text))
                {
                    return Invalid(path + ".text: Input should be a valid string");
                }

                turn.AddText(text.GetString()!);
                return null;
            case "image_url":
                return ReadImage(part, path, turn);
            case "file":
                return ReadFile(part, path, turn);
            case "input_audio":
                return Invalid(path + ": audio input is not supported by this model");
            case null:
                return Invalid(path + ".type: Field required");
            default:
                return Invalid(path + ".type: Input should be 'text', 'image_url' or 'file'");
        }
    }

    private static ApiError? ReadImage(JsonElement part, string path, Turn turn)
    {
        string? url = null;
        if (part.TryGetProperty("image_url", out var image))
        {
            url = image.ValueKind == JsonValueKind.String ? image.GetString() : JsonValues.GetString(image, "url");
        }

        if (string.IsNullOrEmpty(url))
        {
            return Invalid(path + ".image_url.url: Field required");
        }

        if (DataUrl.TryParse(url, out var data))
        {
            if (data.MediaType is not ("image/jpeg" or "image/png" or "image/gif" or "image/webp"))
            {
                return Invalid(path + ".image_url.url: image media type must be image/jpeg, image/png, image/gif or image/webp");
            }

            turn.Blocks.Add(writer => WriteBase64Source(writer, "image", data));
            return null;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return Invalid(path + ".image_url.url: must be an http(s) URL or a base64 data URL");
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

    private static ApiError? ReadFile(JsonElement part, string path, Turn turn)
    {
        var fileData = part.TryGetProperty("file", out var file) ? JsonValues.GetString(file, "file_data") : null;
        if (fileData is null)
        {
            return Invalid(path + ".file.file_data: Field required (file ids are not supported)");
        }

        if (!DataUrl.TryParse(fileData, out var data) || data.MediaType != "application/pdf")
        {
            return Invalid(path + ".file.file_data: must be a base64 data URL of a PDF (data:application/pdf;base64,…)");
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

    private static ApiError? ReadAssistant(JsonElement message, string path, Turn turn)
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
                            return Invalid(partPath + ": assistant messages take text and refusal parts only");
                        }

                        turn.AddText(text);
                    }

                    break;
                case JsonValueKind.Null:
                    break;
                default:
                    return Invalid(path + ".content: Input should be a valid string or a list of content parts");
            }
        }

        if (!JsonValues.Has(message, "tool_calls", out var calls))
        {
            return null;
        }

        if (calls.ValueKind != JsonValueKind.Array)
        {
            return Invalid(path + ".tool_calls: Input should be a valid list");
        }

        var callIndex = 0;
        foreach (var call in calls.EnumerateArray())
        {
            var callPath = path + ".tool_calls." + callIndex++;
            var id = JsonValues.GetString(call, "id");
            if (string.IsNullOrEmpty(id))
            {
                return Invalid(callPath + ".id: Field required");
            }

            if (!JsonValues.TryGet(call, "function", JsonValueKind.Object, out var function) ||
                JsonValues.GetString(function, "name") is not { Length: > 0 } name)
            {
                return Invalid(callPath + ".function.name: Field required");
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
                    return Invalid(callPath + ".function.arguments: must be a JSON object");
                }

                if (input.ValueKind != JsonValueKind.Object)
                {
                    return Invalid(callPath + ".function.arguments: must be a JSON object");
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

    private static ApiError? ReadToolResult(JsonElement message, string path, Turn turn)
    {
        if (JsonValues.GetString(message, "tool_call_id") is not { Length: > 0 } toolCallId)
        {
            return Invalid(path + ".tool_call_id: Field required");
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
                        return Invalid(path + ".content." + index + ": tool messages take text parts only");
                    }

                    texts.Add(text);
                    index++;
                }

                break;
            case JsonValueKind.Null or JsonValueKind.Undefined:
                break;
            default:
                return Invalid(path + ".content: Input should be a valid string or a list of content parts");
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

    private static ApiError? ReadMaxTokens(JsonElement root, ChatRequestOptions options, out int maxTokens)
    {
        maxTokens = options.DefaultMaxTokens;
        foreach (var name in (ReadOnlySpan<string>)["max_completion_tokens", "max_tokens"])
        {
            if (!JsonValues.Has(root, name, out var value))
            {
                continue;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out maxTokens) || maxTokens < 1)
            {
                return Invalid(name + ": Input should be an integer greater than or equal to 1");
            }

            return null;
        }

        return null;
    }

    private static ApiError? ReadThinking(JsonElement root, ref int maxTokens, out int budget)
    {
        budget = 0;
        if (!JsonValues.Has(root, "reasoning_effort", out var effort))
        {
            return null;
        }

        budget = effort.ValueKind == JsonValueKind.String
            ? effort.GetString() switch
            {
                "none" => 0,
                "minimal" or "low" => LowBudget,
                "medium" => MediumBudget,
                "high" or "xhigh" => HighBudget,
                _ => -1,
            }
            : -1;
        if (budget < 0)
        {
            return Invalid("reasoning_effort: Input should be 'none', 'minimal', 'low', 'medium' or 'high'");
        }

        // Claude needs max_tokens above the thinking budget; the client's limit is kept for the answer itself.
        if (budget > 0 && maxTokens <= budget)
        {
            maxTokens = (int)Math.Min(int.MaxValue, (long)maxTokens + budget);
        }

        return null;
    }

    private static ApiError? CheckChoices(JsonElement root)
    {
        if (JsonValues.Has(root, "n", out var n) && (n.ValueKind != JsonValueKind.Number || !n.TryGetInt32(out var count) || count != 1))
        {
            return Invalid("n: only 1 choice is supported");
        }

        return null;
    }

    private static ApiError? WriteOptions(JsonElement root, ChatRequestOptions options, int budget, Utf8JsonWriter writer)
    {
        if (JsonValues.Has(root, "stream", out var stream))
        {
            if (stream.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return Invalid("stream: Input should be a valid boolean");
            }

            writer.WriteBoolean("stream"u8, stream.GetBoolean());
        }

        if (JsonValues.Has(root, "stop", out var stop))
        {
            writer.WriteStartArray("stop_sequences"u8);
            if (stop.ValueKind == JsonValueKind.String)
            {
                writer.WriteStringValue(stop.GetString());
            }
            else if (stop.ValueKind == JsonValueKind.Array)
            {
                var index = 0;
                foreach (var item in stop.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                    {
                        return Invalid($"stop.{index}: Input should be a valid string");
                    }

                    if (item.GetString()!.Length > 0)
                    {
                        writer.WriteStringValue(item.GetString());
                    }

                    index++;
                }
            }
            else
            {
                return Invalid("stop: Input should be a valid string or a list of strings");
            }

            writer.WriteEndArray();
        }

        if (JsonValues.Has(root, "temperature", out var temperature))
        {
            if (temperature.ValueKind != JsonValueKind.Number)
            {
                return Invalid("temperature: Input should be a valid number");
            }

            var value = temperature.GetDouble();
            if (options.ClampTemperature && value > 1)
            {
                writer.WriteNumber("temperature"u8, 1);
            }
            else
            {
                writer.WritePropertyName("temperature"u8);
                temperature.WriteTo(writer);
            }
        }

        if (JsonValues.Has(root, "top_p", out var topP))
        {
            if (topP.ValueKind != JsonValueKind.Number)
            {
                return Invalid("top_p: Input should be a valid number");
            }

            writer.WritePropertyName("top_p"u8);
            topP.WriteTo(writer);
        }

        if (JsonValues.Has(root, "user", out var user))
        {
            if (user.ValueKind != JsonValueKind.String)
            {
                return Invalid("user: Input should be a valid string");
            }

            writer.WriteStartObject("metadata"u8);
            writer.WriteString("user_id"u8, user.GetString());
            writer.WriteEndObject();
        }

        return WriteTools(root, writer) ?? WriteThinking(budget, writer) ?? WriteResponseFormat(root, writer);
    }

    private static ApiError? WriteTools(JsonElement root, Utf8JsonWriter writer)
    {
        if (JsonValues.Has(root, "tools", out var tools))
        {
            if (tools.ValueKind != JsonValueKind.Array)
            {
                return Invalid("tools: Input should be a valid list");
            }

            writer.WriteStartArray("tools"u8);
            var index = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var path = "tools." + index++;
                if (JsonValues.GetString(tool, "type") is { } toolType && toolType != "function")
                {
                    return Invalid(path + ".type: only 'function' tools are supported");
                }

                if (!JsonValues.TryGet(tool, "function", JsonValueKind.Object, out var function) ||
                    JsonValues.GetString(function, "name") is not { Length: > 0 } name)
                {
                    return Invalid(path + ".function.name: Field required");
                }

                writer.WriteStartObject();
                writer.WriteString("name"u8, name);
                if (JsonValues.GetString(function, "description") is { } description)
                {
                    writer.WriteString("description"u8, description);
                }

                writer.WritePropertyName("input_schema"u8);
                if (JsonValues.TryGet(function, "parameters", JsonValueKind.Object, out var parameters))
                {
                    parameters.WriteTo(writer);
                }
                else
                {
                    writer.WriteStartObject();
                    writer.WriteString("type"u8, "object"u8);
                    writer.WriteStartObject("properties"u8);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        var serial = JsonValues.Has(root, "parallel_tool_calls", out var parallel) && parallel.ValueKind == JsonValueKind.False;
        if (!JsonValues.Has(root, "tool_choice", out var choice))
        {
            if (serial)
            {
                writer.WriteStartObject("tool_choice"u8);
                writer.WriteString("type"u8, "auto"u8);
                writer.WriteBoolean("disable_parallel_tool_use"u8, true);
                writer.WriteEndObject();
            }

            return null;
        }

        string type;
        string? toolName = null;
        if (choice.ValueKind == JsonValueKind.String)
        {
            switch (choice.GetString())
            {
                case "auto":
                    type = "auto";
                    break;
                case "required":
                    type = "any";
                    break;
                case "none":
                    type = "none";
                    break;
                default:
                    return Invalid("tool_choice: Input should be 'none', 'auto', 'required' or a named function");
            }
        }
        else if (choice.ValueKind == JsonValueKind.Object && JsonValues.GetString(choice, "type") == "function" &&
                 choice.TryGetProperty("function", out var function) && JsonValues.GetString(function, "name") is { Length: > 0 } name)
        {
            type = "tool";
            toolName = name;
        }
        else
        {
            return Invalid("tool_choice: Input should be 'none', 'auto', 'required' or a named function");
        }

        writer.WriteStartObject("tool_choice"u8);
        writer.WriteString("type"u8, type);
        if (toolName is not null)
        {
            writer.WriteString("name"u8, toolName);
        }

        if (serial && type != "none")
        {
            writer.WriteBoolean("disable_parallel_tool_use"u8, true);
        }

        writer.WriteEndObject();
        return null;
    }

    private static ApiError? WriteThinking(int budget, Utf8JsonWriter writer)
    {
        if (budget > 0)
        {
            writer.WriteStartObject("thinking"u8);
            writer.WriteString("type"u8, "enabled"u8);
            writer.WriteNumber("budget_tokens"u8, budget);
            writer.WriteEndObject();
        }

        return null;
    }

    private static ApiError? WriteResponseFormat(JsonElement root, Utf8JsonWriter writer)
    {
        if (!JsonValues.Has(root, "response_format", out var format))
        {
            return null;
        }

        var type = JsonValues.GetString(format, "type");
        if (type is "text" or "json_object")
        {
            // No Claude equivalent of plain JSON mode; the prompt has to ask for JSON.
            return null;
        }

        if (type != "json_schema")
        {
            return Invalid("response_format.type: Input should be 'text', 'json_object' or 'json_schema'");
        }

        if (!format.TryGetProperty("json_schema", out var jsonSchema) || !JsonValues.TryGet(jsonSchema, "schema", JsonValueKind.Object, out var schema))
        {
            return Invalid("response_format.json_schema.schema: Field required");
        }

        writer.WriteStartObject("output_config"u8);
        writer.WriteStartObject("format"u8);
        writer.WriteString("type"u8, "json_schema"u8);
        writer.WritePropertyName("schema"u8);
        schema.WriteTo(writer);
        writer.WriteEndObject();
        writer.WriteEndObject();
        return null;
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement;

    private static ApiError Invalid(string message) => ApiError.InvalidRequest(message);

    /// <summary>One Claude turn being built; consecutive messages of one role land in the same turn.</summary>
    private sealed class Turn(string role)
    {
        public string Role { get; } = role;

        public List<Action<Utf8JsonWriter>> Blocks { get; } = [];

        /// <summary>How many tool results lead the turn.</summary>
        public int ResultCount { get; set; }

        public static Turn Of(List<Turn> turns, string role)
        {
            if (turns.Count > 0 && turns[^1].Role == role)
            {
                return turns[^1];
            }

            var turn = new Turn(role);
            turns.Add(turn);
            return turn;
        }

        public void AddText(string text)
        {
            if (text.Length == 0)
            {
                return;
            }

            Blocks.Add(writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("type"u8, "text"u8);
                writer.WriteString("text"u8, text);
                writer.WriteEndObject();
            });
        }
    }
}
