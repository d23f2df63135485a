using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Translation;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>
/// <c>POST /v1/chat/completions</c> (spec §6–7): the OpenAI request is translated into a Claude Messages request and
/// goes through the same route, upstreams and usage record as <c>/v1/messages</c>. The Claude answer is translated
/// back into OpenAI's format, or, with <c>"style": "claude"</c>, returned exactly as <c>/v1/messages</c> returns it.
/// Errors use OpenAI's shape until <c>style: claude</c> has been read, Claude's after it.
/// </summary>
public sealed partial class ChatCompletionsHandler(
    ApiKeyAuthenticator authenticator,
    UpstreamRouter router,
    ResilientUpstreamCaller upstreams,
    IUsageSink usage,
    GovernanceService governance,
    TimeProvider time,
    IOptions<GatewayOptions> options,
    ILogger<ChatCompletionsHandler> logger)
{
    public const string Endpoint = "chat.completions";
    public const string ClaudeStyleEndpoint = "chat.completions+claude";

    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 128 };

    private readonly GatewayOptions _options = options.Value;

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var gateway = GatewayContext.Begin(context, time);
        var request = context.Request;
        var aborted = context.RequestAborted;
        var format = ErrorFormat.OpenAi;

        if (RequestBody.DeclaredTooLarge(request, _options.MaxRequestBodyBytes))
        {
            return new ErrorResult(TooLarge(), format);
        }

        var (key, authError) = await ClientAuthentication.AuthenticateAsync(authenticator, request, aborted);
        if (key is null)
        {
            return new ErrorResult(ForFormat(authError!, format), format);
        }

        byte[]? body;
        try
        {
            body = await RequestBody.ReadAsync(request, _options.MaxRequestBodyBytes, aborted);
        }
        catch (OperationCanceledException exception) when (RequestBody.ClientLeft(exception, aborted))
        {
            CallRecorders.Create(usage, gateway, key.Id, Endpoint, request).Finish(499, UsageStates.Cancelled);
            return Results.Empty;
        }
        catch (BadHttpRequestException exception)
        {
            var tooLarge = exception.StatusCode == 413;
            return Refuse(CallRecorders.Create(usage, gateway, key.Id, Endpoint, request), format, tooLarge
                ? TooLarge()
                : ApiError.InvalidRequest("The request body could not be read."));
        }

        if (body is null)
        {
            return Refuse(CallRecorders.Create(usage, gateway, key.Id, Endpoint, request), format, TooLarge());
        }

        // JSON strings must be valid UTF-8; JsonDocument would only notice when a string is read (as /v1/messages does).
        if (!Utf8.IsValid(body))
        {
            return Refuse(CallRecorders.Create(usage, gateway, key.Id, Endpoint, request), format,
                ApiError.InvalidRequest("There was an error parsing the body: the body is not valid UTF-8."));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, ParseOptions);
        }
        catch (JsonException exception)
        {
            return Refuse(CallRecorders.Create(usage, gateway, key.Id, Endpoint, request), format,
                ApiError.InvalidRequest("There was an error parsing the body: " + Describe(exception)));
        }

        context.Response.RegisterForDispose(document);
        var root = document.RootElement;
        var styleError = ReadStyle(root, out var claudeStyle);
        if (claudeStyle)
        {
            format = ErrorFormat.Claude;
        }

        var call = CallRecorders.Create(usage, gateway, key.Id, claudeStyle ? ClaudeStyleEndpoint : Endpoint, request);
        if (styleError is not null)
        {
            return Refuse(call, format, styleError);
        }

        // anthropic-version is optional here (spec §7.3); a value that is sent must still be one Anthropic knows.
        var version = request.Headers[HeaderNames.AnthropicVersion].ToString();
        if (version.Length > 0 && !AnthropicVersions.IsKnown(version))
        {
            return Refuse(call, format,
                ApiError.InvalidRequest($"anthropic-version: \"{CallRecorders.Truncate(version, 64)}\" is not a valid version"));
        }

        var model = root.ValueKind == JsonValueKind.Object ? JsonValues.GetString(root, "model") : null;
        var routes = string.IsNullOrEmpty(model) ? [] : router.Candidates(model);
        var route = routes is [var primary, ..] ? primary : (UpstreamRoute?)null;
        var translation = new ChatRequestOptions { ClampTemperature = route?.Upstream is not OpenAiUpstream };
        var claudeBody = ChatRequestToClaude.Translate(root, translation, out var invalid);
        if (claudeBody is null)
        {
            return Refuse(call, format, invalid!);
        }

        var messages = MessagesRequestValidator.Parse(claudeBody, out invalid);
        if (messages is null)
        {
            return Refuse(call, format, invalid!);
        }

        context.Response.RegisterForDispose(messages);
        messages.AnthropicVersion = version.Length > 0 ? version : AnthropicVersions.Default;
        messages.AnthropicBeta = HeaderPolicy.JoinBetas(request.Headers);
        messages.ExtraAnthropicHeaders = HeaderPolicy.ExtraAnthropicHeaders(request.Headers);
        call.Model = messages.Model;
        call.Stream = messages.Stream;

        if (!key.AllowsModel(messages.Model))
        {
            return Refuse(call, format, ApiError.From(ApiErrorKind.Permission,
                $"This API key does not have permission to use the model '{CallRecorders.Truncate(messages.Model, 256)}'."));
        }

        if (route is not { } target)
        {
            return Refuse(call, format, ApiError.From(ApiErrorKind.NotFound, "model: " + CallRecorders.Truncate(messages.Model, 256)));
        }

        call.Upstream = target.Upstream.Name;
        call.UpstreamModel = target.UpstreamModel;
        var admission = await governance.AdmitAsync(key, call.RequestId, messages);
        AdmissionResponse.Apply(context.Response, admission, RateLimitHeaderFormat.OpenAi);
        if (admission.Refusal is { } limited)
        {
            return Refuse(call, format, limited);
        }

        var includeUsage = root.TryGetProperty("stream_options", out var streamOptions) &&
                           streamOptions.ValueKind == JsonValueKind.Object &&
                           streamOptions.TryGetProperty("include_usage", out var include) && include.ValueKind == JsonValueKind.True;
        return await ForwardAsync(gateway, call, messages, routes, claudeStyle, includeUsage, aborted);
    }

    private async Task<IResult> ForwardAsync(
        GatewayContext gateway, CallRecorder call, MessagesRequest messages, IReadOnlyList<UpstreamRoute> routes, bool claudeStyle, bool includeUsage,
        CancellationToken aborted)
    {
        var format = claudeStyle ? ErrorFormat.Claude : ErrorFormat.OpenAi;
        // The answer names the model the client asked for (spec §7.6), whatever name the upstream used.
        var modelToRestore = claudeStyle ? messages.Model : null;
        UpstreamResponse upstream;
        try
        {
            // The upstream's share of this is charged to the call's wait clock by the upstream client (issue 5).
            upstream = await upstreams.SendAsync(routes, messages, call, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            call.Finish(499, UsageStates.Cancelled);
            return Results.Empty;
        }

        call.UpstreamRequestId = upstream.UpstreamRequestId;
        if (upstream.Error is { } upstreamError)
        {
            await upstream.DisposeAsync();
            return Refuse(call, format, upstreamError);
        }

        if (upstream.Body is { } body)
        {
            return claudeStyle
                ? new MessageResult(body, modelToRestore, call) { UsageEstimated = upstream.UsageEstimated }
                : new ChatCompletionResult(body, messages.Model, call, time) { UsageEstimated = upstream.UsageEstimated };
        }

        var start = await UpstreamStreamStart.WaitAsync(upstream, gateway, _options.Streaming, time, aborted);
        if (start.Outcome != StreamStartOutcome.Started)
        {
            return await UpstreamStreamStart.EndUnstartedAsync(start, upstream, call, logger) is { } error ? Refuse(call, format, error) : Results.Empty;
        }

        if (claudeStyle)
        {
            return new StreamResult(upstream, start.FirstEvent, start.Pending, modelToRestore, gateway, call, _options.Streaming, time, logger);
        }

        var translator = new ClaudeStreamToChat(ChatCompletionIds.New(), time.GetUtcNow().ToUnixTimeSeconds(), messages.Model, includeUsage);
        return new ChatCompletionStreamResult(upstream, start, translator, gateway, call, _options.Streaming, time, logger);
    }

    /// <summary>Reads <c>style</c> (spec §7.2): absent or <c>openai</c>, or <c>claude</c>; anything else is a 400.</summary>
    private static ApiError? ReadStyle(JsonElement root, out bool claude)
    {
        claude = false;
        if (root.ValueKind != JsonValueKind.Object || !JsonValues.Has(root, "style", out var style))
        {
            return null;
        }

        if (style.ValueKind == JsonValueKind.String)
        {
            var value = style.GetString()!;
            if (value.Equals("claude", StringComparison.OrdinalIgnoreCase))
            {
                claude = true;
                return null;
            }

            if (value.Equals("openai", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }
        }

        return ApiError.InvalidRequest("style: Input should be 'openai' or 'claude'");
    }

    private ErrorResult Refuse(CallRecorder call, ErrorFormat format, ApiError error)
    {
        error = ForFormat(error, format);
        Log.Refused(logger, call.RequestId, error.Status, error.Type);
        call.Finish(error.Status, UsageStates.Failed, error.Type);
        return new ErrorResult(error, format);
    }

    /// <summary>OpenAI clients know no 529: an overloaded or unreachable upstream is a 503 in OpenAI's shape (spec §8.5).</summary>
    private static ApiError ForFormat(ApiError error, ErrorFormat format) =>
        format == ErrorFormat.OpenAi && error.Status == 529 ? error with { Status = 503 } : error;

    private ApiError TooLarge() => ApiError.From(ApiErrorKind.RequestTooLarge,
        $"Request exceeds the maximum allowed number of bytes ({_options.MaxRequestBodyBytes}).");

    private static string Describe(JsonException exception)
    {
        var message = exception.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Call {RequestId} refused: {Status} {ErrorType}")]
        public static partial void Refused(ILogger logger, string requestId, int status, string errorType);
    }
}
