using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Protocol.Sse;
using Qhaigc.Functions.Translation;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// An OpenAI-compatible Chat Completions server (OpenAI, Azure OpenAI's v1 endpoint, vLLM, Ollama, llama.cpp server):
/// <c>BaseUrl</c> ends in <c>/v1</c>, calls go to <c>{BaseUrl}/chat/completions</c> with <c>Authorization: Bearer</c>.
/// The Claude request is translated on the way out and the answer back into Claude's format, a stream event by event,
/// so every Claude-format endpoint works unchanged on this upstream. Streams always ask for usage.
/// </summary>
public sealed partial class OpenAiUpstream : IUpstream, IModelListingUpstream
{
    private readonly HttpClient _http;
    private readonly UpstreamOptions _options;
    private readonly ChatUpstreamOptions _chatOptions;
    private readonly Uri _completionsUri;
    private readonly TokenEstimator _estimator;
    private readonly ILogger _logger;

    public OpenAiUpstream(string name, UpstreamOptions options, HttpClient http, ILogger logger, TokenEstimator? estimator = null)
    {
        Name = name;
        _options = options;
        _http = http;
        _logger = logger;
        _estimator = estimator ?? TokenEstimator.Shared;
        _completionsUri = AnthropicUpstream.Combine(options.BaseUrl!, "chat/completions");
        ModelsUri = AnthropicUpstream.Combine(options.BaseUrl!, "models");
        _chatOptions = new ChatUpstreamOptions
        {
            MaxTokensParameter = string.IsNullOrWhiteSpace(options.MaxTokensParameter) ? "max_completion_tokens" : options.MaxTokensParameter.Trim(),
        };
    }

    public string Name { get; }

    /// <summary><c>{BaseUrl}/models</c>, OpenAI's model list.</summary>
    public Uri ModelsUri { get; }

    public async Task<UpstreamResponse> SendMessagesAsync(MessagesRequest request, string upstreamModel, CancellationToken cancellationToken)
    {
        var root = request.Root;
        if (VersionRules.Check(request.AnthropicVersion, root) is { } versionError)
        {
            return UpstreamResponse.Failed(versionError);
        }

        var translated = ClaudeRequestToChat.Translate(root, upstreamModel, _chatOptions, out var translationError);
        if (translated is null)
        {
            return UpstreamResponse.Failed(translationError!);
        }

        var context = new ChatAnswerContext(request.Model, translated.ToolNames, translated.StopSequences,
            () => _estimator.EstimateRequest(root), text => _estimator.Count(text));

        using var message = new HttpRequestMessage(HttpMethod.Post, _completionsUri)
        {
            Content = new UpstreamRequestContent(translated.Body),
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrHigher,
        };
        AddAuthorization(message);
        message.Headers.Accept.ParseAdd(request.Stream ? "text/event-stream" : "application/json");

        // As for Anthropic upstreams: the client leaving cancels the call, and so does silence past the idle timeout
        // (re-armed per event, never a total timeout).
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.IdleTimeout);
        HttpResponseMessage? response = null;
        try
        {
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var upstreamRequestId = AnthropicUpstream.FirstHeader(response, HeaderNames.XRequestId);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var error = await AnthropicUpstream.ReadErrorAsync(response, timeout.Token);
                // OpenAI's error types ("server_error", "insufficient_quota"…) are not Claude's; the status decides.
                error = error with { Type = ApiError.TypeForStatus(error.Status) };
                Log.UpstreamError(_logger, Name, error.Status, error.Type, upstreamRequestId);
                response.Dispose();
                timeout.Dispose();
                return UpstreamResponse.Failed(error, upstreamRequestId);
            }

            if (!request.Stream)
            {
                var bytes = await UpstreamWaitHandler.ReadBodyAsync(response, timeout.Token);
                response.Dispose();
                timeout.Dispose();
                var claude = ChatCompletionToClaude.Translate(bytes, context, out var estimated, out var answerError);
                if (claude is null)
                {
                    Log.UnreadableAnswer(_logger, Name, upstreamRequestId);
                    return UpstreamResponse.Failed(answerError!, upstreamRequestId);
                }

                return UpstreamResponse.Message(claude, upstreamRequestId, estimated);
            }

            if (response.Content.Headers.ContentType?.MediaType is not "text/event-stream")
            {
                Log.NotAStream(_logger, Name, response.Content.Headers.ContentType?.MediaType);
                response.Dispose();
                timeout.Dispose();
                return UpstreamResponse.Failed(
                    ApiError.From(ApiErrorKind.Internal, "The upstream did not answer with an event stream."), upstreamRequestId);
            }

            var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
            var chunks = new SseReader(stream, timeout.Token);
            var translator = new ChatStreamToClaude(context);
            var events = new ChatStreamEvents(new AnthropicUpstream.IdleTimeoutEnumerator(chunks, timeout, _options.IdleTimeout), translator);
            return UpstreamResponse.Stream(events, upstreamRequestId, new AnthropicUpstream.CallOwner(response, timeout), () => translator.UsageEstimated);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException ||
                                          (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            response?.Dispose();
            timeout.Dispose();
            var timedOut = exception is OperationCanceledException;
            Log.UpstreamUnreachable(_logger, Name, timedOut, exception);
            return UpstreamResponse.Failed(ApiError.From(ApiErrorKind.UpstreamUnavailable,
                timedOut ? "The upstream did not answer in time." : "The upstream could not be reached."));
        }
        catch
        {
            response?.Dispose();
            timeout.Dispose();
            throw;
        }
    }

    /// <summary>The upstream's <c>GET {BaseUrl}/models</c>.</summary>
    public async Task<IReadOnlyList<UpstreamModelInfo>> ListModelsAsync(CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, ModelsUri);
        AddAuthorization(message);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.IdleTimeout);
        using var response = await _http.SendAsync(message, timeout.Token);
        response.EnsureSuccessStatusCode();
        return ModelListReader.Read(await UpstreamWaitHandler.ReadBodyAsync(response, timeout.Token)).Models;
    }

    /// <summary>Adds <c>Authorization: Bearer</c> with the upstream's own key; local servers often need none.</summary>
    public void AddAuthorization(HttpRequestMessage message)
    {
        if (!string.IsNullOrEmpty(_options.ApiKey))
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.ApiKey);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2101, Level = LogLevel.Warning,
            Message = "Upstream {Upstream} answered {Status} ({ErrorType}), upstream request {UpstreamRequestId}")]
        public static partial void UpstreamError(ILogger logger, string upstream, int status, string errorType, string? upstreamRequestId);

        [LoggerMessage(EventId = 2102, Level = LogLevel.Error, Message = "Upstream {Upstream} unreachable (timed out: {TimedOut})")]
        public static partial void UpstreamUnreachable(ILogger logger, string upstream, bool timedOut, Exception exception);

        [LoggerMessage(EventId = 2103, Level = LogLevel.Error, Message = "Upstream {Upstream} answered a stream request with {MediaType}")]
        public static partial void NotAStream(ILogger logger, string upstream, string? mediaType);

        [LoggerMessage(EventId = 2104, Level = LogLevel.Error, Message = "Upstream {Upstream} answered with a body that is not a chat completion, upstream request {UpstreamRequestId}")]
        public static partial void UnreadableAnswer(ILogger logger, string upstream, string? upstreamRequestId);
    }
}
