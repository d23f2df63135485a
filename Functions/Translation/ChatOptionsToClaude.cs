using System.Text.Json;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Translation;

/// <summary>
/// The options of a Chat Completions request → their Claude names (see docs/openai-compatibility.md): token limits,
/// <c>reasoning_effort</c> as a thinking budget, sampling, stop sequences, <c>user</c> and <c>response_format</c>.
/// More than one choice is a 400.
/// </summary>
internal static class ChatOptionsToClaude
{
    /// <summary>Reads what shapes the body before it is written: <c>max_tokens</c> and the thinking budget.</summary>
    public static ApiError? Read(JsonElement root, ChatRequestOptions options, out int maxTokens, out int budget)
    {
        budget = 0;
        return ReadMaxTokens(root, options, out maxTokens)
               ?? ReadThinking(root, ref maxTokens, out budget)
               ?? CheckChoices(root);
    }

    /// <summary>Writes <c>stream</c>, <c>stop_sequences</c>, <c>temperature</c>, <c>top_p</c> and <c>metadata</c>.</summary>
    public static ApiError? Write(JsonElement root, ChatRequestOptions options, Utf8JsonWriter writer)
    {
        if (JsonValues.Has(root, "stream", out var stream))
        {
            if (stream.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return ApiError.InvalidRequest("stream: Input should be a valid boolean");
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
                        return ApiError.InvalidRequest($"stop.{index}: Input should be a valid string");
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
                return ApiError.InvalidRequest("stop: Input should be a valid string or a list of strings");
            }

            writer.WriteEndArray();
        }

        if (JsonValues.Has(root, "temperature", out var temperature))
        {
            if (temperature.ValueKind != JsonValueKind.Number)
            {
                return ApiError.InvalidRequest("temperature: Input should be a valid number");
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
                return ApiError.InvalidRequest("top_p: Input should be a valid number");
            }

            writer.WritePropertyName("top_p"u8);
            topP.WriteTo(writer);
        }

        if (JsonValues.Has(root, "user", out var user))
        {
            if (user.ValueKind != JsonValueKind.String)
            {
                return ApiError.InvalidRequest("user: Input should be a valid string");
            }

            writer.WriteStartObject("metadata"u8);
            writer.WriteString("user_id"u8, user.GetString());
            writer.WriteEndObject();
        }

        return null;
    }

    /// <summary>Writes <c>thinking</c> when <c>reasoning_effort</c> asked for a budget.</summary>
    public static ApiError? WriteThinking(int budget, Utf8JsonWriter writer)
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

    /// <summary>Writes a JSON schema <c>response_format</c> as <c>output_config</c>.</summary>
    public static ApiError? WriteResponseFormat(JsonElement root, Utf8JsonWriter writer)
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
            return ApiError.InvalidRequest("response_format.type: Input should be 'text', 'json_object' or 'json_schema'");
        }

        if (!format.TryGetProperty("json_schema", out var jsonSchema) || !JsonValues.TryGet(jsonSchema, "schema", JsonValueKind.Object, out var schema))
        {
            return ApiError.InvalidRequest("response_format.json_schema.schema: Field required");
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
                return ApiError.InvalidRequest(name + ": Input should be an integer greater than or equal to 1");
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
                "minimal" or "low" => ChatRequestToClaude.LowBudget,
                "medium" => ChatRequestToClaude.MediumBudget,
                "high" or "xhigh" => ChatRequestToClaude.HighBudget,
                _ => -1,
            }
            : -1;
        if (budget < 0)
        {
            return ApiError.InvalidRequest("reasoning_effort: Input should be 'none', 'minimal', 'low', 'medium' or 'high'");
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
            return ApiError.InvalidRequest("n: only 1 choice is supported");
        }

        return null;
    }
}
