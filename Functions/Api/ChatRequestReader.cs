using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Translation;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>
/// What <c>/v1/chat/completions</c> checks between the key and the model (docs/openai-compatibility.md): the body
/// within the size limit, UTF-8, JSON, <c>style</c> (OpenAI's error shape until it is read, Claude's after it with
/// <c>"style": "claude"</c>), an <c>anthropic-version</c> if one is sent, then the translation into a Claude Messages
/// request, validated as <c>/v1/messages</c> validates one. One reader per call: it remembers what it read.
/// </summary>
public sealed class ChatRequestReader : IClaudeRequestReader
{
    public const string OpenAiEndpoint = "chat.completions";
    public const string ClaudeStyleEndpoint = "chat.completions+claude";

    /// <summary>Translated without clamping: the upstream of each attempt decides (<see cref="MessagesRequest.TemperatureAboveClaudeRange"/>).</summary>
    private static readonly ChatRequestOptions Translation = new() { ClampTemperature = false };

    public ErrorFormat Errors { get; private set; } = ErrorFormat.OpenAi;

    public string Endpoint => OpenAiEndpoint;

    public bool RecordsStream => true;

    /// <summary>True when the request asked for Claude's answer format (<c>"style": "claude"</c>).</summary>
    public bool ClaudeStyle { get; private set; }

    /// <summary>True when a stream's final chunk should carry usage (<c>stream_options.include_usage</c>).</summary>
    public bool IncludeUsage { get; private set; }

    public async ValueTask<ClaudeRequestRead> ReadAsync(
        HttpRequest request, BodyLimits limits, CallRecorder record, GatewayContext gateway, CancellationToken aborted)
    {
        var read = await MessagesRequestReader.ReadBodyAsync(request, limits, gateway, aborted);
        if (read.Body is not { } body)
        {
            return read.Otherwise;
        }

        // JSON strings must be valid UTF-8; JsonDocument would only notice when a string is read (as /v1/messages does).
        if (!Utf8.IsValid(body))
        {
            return new ClaudeRequestRead(ApiError.InvalidRequest("There was an error parsing the body: the body is not valid UTF-8."));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, MessagesRequestValidator.ParseOptions);
        }
        catch (JsonException exception)
        {
            return new ClaudeRequestRead(ApiError.InvalidRequest("There was an error parsing the body: " + Describe(exception)));
        }

        request.HttpContext.Response.RegisterForDispose(document);
        var root = document.RootElement;
        var styleError = ReadStyle(root);
        if (ClaudeStyle)
        {
            Errors = ErrorFormat.Claude;
            record.Endpoint = ClaudeStyleEndpoint;
        }

        if (styleError is not null)
        {
            return new ClaudeRequestRead(styleError);
        }

        // anthropic-version is optional here; a value that is sent must still be one Anthropic knows.
        var version = request.Headers[HeaderNames.AnthropicVersion].ToString();
        if (version.Length > 0 && !AnthropicVersions.IsKnown(version))
        {
            return new ClaudeRequestRead(MessagesRequestReader.UnknownVersion(version));
        }

        var claudeBody = ChatRequestToClaude.Translate(root, Translation, out var invalid);
        if (claudeBody is null)
        {
            return new ClaudeRequestRead(invalid);
        }

        var messages = MessagesRequestValidator.Parse(claudeBody, out invalid);
        if (messages is null)
        {
            return new ClaudeRequestRead(invalid);
        }

        MessagesRequestReader.AttachHeaders(messages, request, version.Length > 0 ? version : AnthropicVersions.Default);
        messages.TemperatureAboveClaudeRange = JsonValues.TryGet(root, "temperature", JsonValueKind.Number, out var temperature) &&
                                               temperature.TryGetDouble(out var value) && value > 1;
        IncludeUsage = root.TryGetProperty("stream_options", out var streamOptions) &&
                       streamOptions.ValueKind == JsonValueKind.Object &&
                       streamOptions.TryGetProperty("include_usage", out var include) && include.ValueKind == JsonValueKind.True;
        return ClaudeRequestRead.Of(messages);
    }

    /// <summary>Reads <c>style</c>: absent or <c>openai</c>, or <c>claude</c>; anything else is a 400.</summary>
    private ApiError? ReadStyle(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !JsonValues.Has(root, "style", out var style))
        {
            return null;
        }

        if (style.ValueKind == JsonValueKind.String)
        {
            var value = style.GetString()!;
            if (value.Equals("claude", StringComparison.OrdinalIgnoreCase))
            {
                ClaudeStyle = true;
                return null;
            }

            if (value.Equals("openai", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }
        }

        return ApiError.InvalidRequest("style: Input should be 'openai' or 'claude'");
    }

    private static string Describe(JsonException exception)
    {
        var message = exception.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
