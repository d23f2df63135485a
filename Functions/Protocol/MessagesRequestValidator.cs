using System.Text.Json;
using System.Text.Unicode;

namespace Qhaigc.Functions.Protocol;

/// <summary>
/// Checks a <c>/v1/messages</c> body the way Anthropic does before it reaches a model (docs/wire-contract.md#6-request-body): types of the
/// fields the gateway must understand, roles, and the shape of the content blocks it knows. Messages use the
/// <c>json.path: problem</c> form. Block types it does not know pass, so new API features are not blocked here.
/// </summary>
public static class MessagesRequestValidator
{
    /// <summary>Longest model name accepted; no model id comes near it, and every record and log line stays bounded.</summary>
    public const int MaxModelLength = 256;

    /// <summary>
    /// Duplicate properties are refused, as a strict parser would: the gateway checks and bills what it reads, and an
    /// upstream that read the other copy would serve something else. Names compare unescaped (<c>"mod\u0065l"</c> is
    /// <c>model</c>).
    /// </summary>
    public static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 128, AllowDuplicateProperties = false };

    /// <summary>Parses and validates; on success the caller owns the returned request.</summary>
    public static MessagesRequest? Parse(byte[] body, out ApiError? error) => Parse(body, requireMaxTokens: true, out error);

    /// <summary>Parses and validates; <c>count_tokens</c> takes the same body without <c>max_tokens</c> (docs/wire-contract.md#10-count_tokens).</summary>
    public static MessagesRequest? Parse(byte[] body, bool requireMaxTokens, out ApiError? error)
    {
        // JSON strings must be valid UTF-8; JsonDocument would only notice when a string is read.
        if (!Utf8.IsValid(body))
        {
            error = ApiError.InvalidRequest("There was an error parsing the body: the body is not valid UTF-8.");
            return null;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, ParseOptions);
        }
        catch (JsonException exception)
        {
            error = ApiError.InvalidRequest("There was an error parsing the body: " + Describe(exception));
            return null;
        }

        error = Validate(document.RootElement, out var model, out var maxTokens, out var stream, out var referencesFiles, requireMaxTokens);
        if (error is not null)
        {
            document.Dispose();
            return null;
        }

        return new MessagesRequest(body, document, model!, maxTokens, stream) { ReferencesFiles = referencesFiles };
    }

    public static ApiError? Validate(JsonElement root, out string? model, out int maxTokens, out bool stream, bool requireMaxTokens = true) =>
        Validate(root, out model, out maxTokens, out stream, out _, requireMaxTokens);

    /// <summary>
    /// Validates, and says whether the request names an uploaded file anywhere (<see cref="FileSources"/>), found on the
    /// walk over the content blocks that validation makes anyway (docs/files.md#references).
    /// </summary>
    public static ApiError? Validate(
        JsonElement root, out string? model, out int maxTokens, out bool stream, out bool referencesFiles, bool requireMaxTokens = true)
    {
        referencesFiles = false;
        model = null;
        maxTokens = 0;
        stream = false;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Invalid("Input should be a valid dictionary");
        }

        if (!root.TryGetProperty("model", out var modelElement))
        {
            return Invalid("model: Field required");
        }

        if (modelElement.ValueKind != JsonValueKind.String)
        {
            return Invalid("model: Input should be a valid string");
        }

        model = modelElement.GetString();
        if (string.IsNullOrEmpty(model))
        {
            return Invalid("model: String should have at least 1 character");
        }

        if (model.Length > MaxModelLength)
        {
            return Invalid($"model: String should have at most {MaxModelLength} characters");
        }

        // count_tokens ignores max_tokens: neither required nor checked there (docs/wire-contract.md#10-count_tokens).
        var maxTokensElement = default(JsonElement);
        if (requireMaxTokens && !root.TryGetProperty("max_tokens", out maxTokensElement))
        {
            return Invalid("max_tokens: Field required");
        }

        if (requireMaxTokens && (maxTokensElement.ValueKind != JsonValueKind.Number || !maxTokensElement.TryGetInt32(out maxTokens)))
        {
            return Invalid(maxTokensElement.ValueKind == JsonValueKind.Number && maxTokensElement.TryGetInt64(out _)
                ? "max_tokens: Input should be less than or equal to 2147483647"
                : "max_tokens: Input should be a valid integer");
        }

        if (requireMaxTokens && maxTokens < 1)
        {
            return Invalid("max_tokens: Input should be greater than or equal to 1");
        }

        if (!root.TryGetProperty("messages", out var messages))
        {
            return Invalid("messages: Field required");
        }

        if (messages.ValueKind != JsonValueKind.Array)
        {
            return Invalid("messages: Input should be a valid list");
        }

        if (messages.GetArrayLength() == 0)
        {
            return Invalid("messages: at least one message is required");
        }

        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (ValidateMessage(message, index++, ref referencesFiles) is { } messageError)
            {
                return messageError;
            }
        }

        if (root.TryGetProperty("stream", out var streamElement))
        {
            if (streamElement.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                stream = streamElement.GetBoolean();
            }
            else if (streamElement.ValueKind != JsonValueKind.Null)
            {
                return Invalid("stream: Input should be a valid boolean");
            }
        }

        return ValidateOptional(root, ref referencesFiles);
    }

    private static ApiError? ValidateMessage(JsonElement message, int index, ref bool referencesFiles)
    {
        var path = "messages." + index;
        if (message.ValueKind != JsonValueKind.Object)
        {
            return Invalid(path + ": Input should be a valid dictionary");
        }

        if (!message.TryGetProperty("role", out var role))
        {
            return Invalid(path + ".role: Field required");
        }

        if (role.ValueKind != JsonValueKind.String || role.GetString() is not ("user" or "assistant" or "system"))
        {
            return Invalid(path + ".role: Input should be 'user' or 'assistant'");
        }

        if (!message.TryGetProperty("content", out var content))
        {
            return Invalid(path + ".content: Field required");
        }

        return content.ValueKind switch
        {
            JsonValueKind.String => null,
            JsonValueKind.Array => ValidateBlocks(content, path + ".content", ref referencesFiles),
            _ => Invalid(path + ".content: Input should be a valid string or a list of content blocks"),
        };
    }

    private static ApiError? ValidateBlocks(JsonElement blocks, string path, ref bool referencesFiles)
    {
        var index = 0;
        foreach (var block in blocks.EnumerateArray())
        {
            var blockPath = path + "." + index++;
            if (block.ValueKind != JsonValueKind.Object)
            {
                return Invalid(blockPath + ": Input should be a valid dictionary");
            }

            if (!block.TryGetProperty("type", out var type))
            {
                return Invalid(blockPath + ".type: Field required");
            }

            if (type.ValueKind != JsonValueKind.String)
            {
                return Invalid(blockPath + ".type: Input should be a valid string");
            }

            referencesFiles = referencesFiles || FileSources.Collect(block, ids: null);

            var problem = type.GetString() switch
            {
                "text" => Require(block, blockPath, "text", JsonValueKind.String),
                "image" or "document" => Require(block, blockPath, "source", JsonValueKind.Object),
                "tool_use" or "server_tool_use" => Require(block, blockPath, "id", JsonValueKind.String)
                    ?? Require(block, blockPath, "name", JsonValueKind.String)
                    ?? Require(block, blockPath, "input", JsonValueKind.Object),
                "tool_result" => Require(block, blockPath, "tool_use_id", JsonValueKind.String) ?? ValidateToolResultContent(block, blockPath, ref referencesFiles),
                "thinking" => Require(block, blockPath, "thinking", JsonValueKind.String)
                    ?? Require(block, blockPath, "signature", JsonValueKind.String),
                "redacted_thinking" => Require(block, blockPath, "data", JsonValueKind.String),
                _ => null,
            };
            if (problem is not null)
            {
                return problem;
            }
        }

        return null;
    }

    private static ApiError? ValidateToolResultContent(JsonElement block, string path, ref bool referencesFiles)
    {
        if (!block.TryGetProperty("content", out var content))
        {
            return null;
        }

        return content.ValueKind switch
        {
            JsonValueKind.String or JsonValueKind.Null => null,
            JsonValueKind.Array => ValidateBlocks(content, path + ".content", ref referencesFiles),
            _ => Invalid(path + ".content: Input should be a valid string or a list of content blocks"),
        };
    }

    private static ApiError? ValidateOptional(JsonElement root, ref bool referencesFiles)
    {
        if (root.TryGetProperty("system", out var system))
        {
            switch (system.ValueKind)
            {
                case JsonValueKind.String or JsonValueKind.Null:
                    break;
                case JsonValueKind.Array:
                    if (ValidateBlocks(system, "system", ref referencesFiles) is { } systemError)
                    {
                        return systemError;
                    }

                    break;
                default:
                    return Invalid("system: Input should be a valid string or a list of text blocks");
            }
        }

        if (root.TryGetProperty("stop_sequences", out var stops) && stops.ValueKind != JsonValueKind.Null)
        {
            if (stops.ValueKind != JsonValueKind.Array)
            {
                return Invalid("stop_sequences: Input should be a valid list");
            }

            var index = 0;
            foreach (var stop in stops.EnumerateArray())
            {
                if (stop.ValueKind != JsonValueKind.String)
                {
                    return Invalid($"stop_sequences.{index}: Input should be a valid string");
                }

                index++;
            }
        }

        foreach (var name in (ReadOnlySpan<string>)["temperature", "top_p"])
        {
            if (root.TryGetProperty(name, out var number) && number.ValueKind is not (JsonValueKind.Number or JsonValueKind.Null))
            {
                return Invalid(name + ": Input should be a valid number");
            }
        }

        if (root.TryGetProperty("top_k", out var topK) && topK.ValueKind != JsonValueKind.Null &&
            (topK.ValueKind != JsonValueKind.Number || !topK.TryGetInt32(out _)))
        {
            return Invalid("top_k: Input should be a valid integer");
        }

        if (root.TryGetProperty("tools", out var tools) && tools.ValueKind != JsonValueKind.Null)
        {
            if (tools.ValueKind != JsonValueKind.Array)
            {
                return Invalid("tools: Input should be a valid list");
            }

            var index = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                if (tool.ValueKind != JsonValueKind.Object)
                {
                    return Invalid($"tools.{index}: Input should be a valid dictionary");
                }

                // Client tools need a name and a schema; server tools are identified by their type.
                if (!tool.TryGetProperty("type", out _))
                {
                    if (Require(tool, "tools." + index, "name", JsonValueKind.String) is { } nameError)
                    {
                        return nameError;
                    }

                    if (Require(tool, "tools." + index, "input_schema", JsonValueKind.Object) is { } schemaError)
                    {
                        return schemaError;
                    }
                }

                index++;
            }
        }

        foreach (var name in (ReadOnlySpan<string>)["tool_choice", "metadata", "thinking"])
        {
            if (root.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
            {
                return Invalid(name + ": Input should be a valid dictionary");
            }
        }

        if (root.TryGetProperty("tool_choice", out var choice) && choice.ValueKind == JsonValueKind.Object)
        {
            if (Require(choice, "tool_choice", "type", JsonValueKind.String) is { } choiceError)
            {
                return choiceError;
            }

            var type = choice.GetProperty("type").GetString();
            if (type is not ("auto" or "any" or "tool" or "none"))
            {
                return Invalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
            }

            if (type == "tool" && Require(choice, "tool_choice", "name", JsonValueKind.String) is { } toolNameError)
            {
                return toolNameError;
            }
        }

        return null;
    }

    private static ApiError? Require(JsonElement element, string path, string name, JsonValueKind kind)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return Invalid($"{path}.{name}: Field required");
        }

        if (value.ValueKind != kind)
        {
            return Invalid($"{path}.{name}: Input should be a valid {KindName(kind)}");
        }

        return null;
    }

    private static string KindName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "dictionary",
        JsonValueKind.Array => "list",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        _ => "value",
    };

    private static ApiError Invalid(string message) => ApiError.InvalidRequest(message);

    /// <summary>System.Text.Json's message without its type names; it never quotes more than one character of input.</summary>
    private static string Describe(JsonException exception)
    {
        var message = exception.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
