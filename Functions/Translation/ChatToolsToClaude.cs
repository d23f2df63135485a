using System.Text.Json;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Translation;

/// <summary>
/// The tools of a Chat Completions request → Claude's (see docs/openai-compatibility.md): function tools become
/// <c>tools</c> with an <c>input_schema</c>, <c>tool_choice</c> maps to its Claude type, and
/// <c>parallel_tool_calls: false</c> becomes <c>disable_parallel_tool_use</c>. Other tool types are a 400.
/// </summary>
internal static class ChatToolsToClaude
{
    /// <summary>Writes <c>tools</c> and <c>tool_choice</c> (with <c>parallel_tool_calls</c> folded in).</summary>
    public static ApiError? Write(JsonElement root, Utf8JsonWriter writer)
    {
        if (JsonValues.Has(root, "tools", out var tools))
        {
            if (tools.ValueKind != JsonValueKind.Array)
            {
                return ApiError.InvalidRequest("tools: Input should be a valid list");
            }

            writer.WriteStartArray("tools"u8);
            var index = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var path = "tools." + index++;
                if (JsonValues.GetString(tool, "type") is { } toolType && toolType != "function")
                {
                    return ApiError.InvalidRequest(path + ".type: only 'function' tools are supported");
                }

                if (!JsonValues.TryGet(tool, "function", JsonValueKind.Object, out var function) ||
                    JsonValues.GetString(function, "name") is not { Length: > 0 } name)
                {
                    return ApiError.InvalidRequest(path + ".function.name: Field required");
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
                    return ApiError.InvalidRequest("tool_choice: Input should be 'none', 'auto', 'required' or a named function");
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
            return ApiError.InvalidRequest("tool_choice: Input should be 'none', 'auto', 'required' or a named function");
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
}
