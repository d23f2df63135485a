using System.Net.ServerSentEvents;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
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
    private readonly UpstreamHttp _http;
    private readonly UpstreamOptions _options;
    private readonly ChatUpstreamOptions _chatOptions;
    private readonly Uri _completionsUri;
    private readonly TokenEstimator _estimator;
    private readonly ILogger _logger;

    public OpenAiUpstream(string name, UpstreamOptions options, HttpClient http, ILogger logger, TokenEstimator? estimator = null)
    {
        Name = name;
        _options = options;
        _http = new UpstreamHttp(name, http, options.IdleTimeout, logger);
        _logger = logger;
        _estimator = estimator ?? TokenEstimator.Shared;
        _completionsUri = UpstreamHttp.Combine(options.BaseUrl!, "chat/completions");
        ModelsUri = UpstreamHttp.Combine(options.BaseUrl!, "models");
        _chatOptions = new ChatUpstreamOptions
        {
            MaxTokensParameter = string.IsNullOrWhiteSpace(options.MaxTokensParameter) ? "max_completion_tokens" : options.MaxTokensParameter.Trim(),
        };
    }

    public string Name { get; }

    /// <summary><c>{BaseUrl}/models</c>, OpenAI's model list.</summary>
    public Uri ModelsUri { get; }

    public Task<UpstreamResponse> SendMessagesAsync(
        MessagesRequest request, string upstreamModel, WaitClock? waits, CancellationToken cancellationToken)
    {
        var root = request.Root;
        if (VersionRules.Check(request.AnthropicVersion, root) is { } versionError)
        {
            return Task.FromResult(UpstreamResponse.Failed(versionError));
        }

        var translated = ClaudeRequestToChat.Translate(root, upstreamModel, _chatOptions, out var translationError);
        if (translated is null)
        {
            return Task.FromResult(UpstreamResponse.Failed(translationError!));
        }

        var context = new ChatAnswerContext(request.Model, translated.ToolNames, translated.StopSequences,
            () => _estimator.EstimateRequest(root), text => _estimator.Count(text));
        var message = UpstreamHttp.Post(_completionsUri, translated.Body, request.Stream, waits);
        AddAuthorization(message);
        return _http.SendAsync(message, request.Stream, new ChatAnswerReader(Name, context, _logger), waits, cancellationToken);
    }

    /// <summary>The upstream's <c>GET {BaseUrl}/models</c>.</summary>
    public async Task<IReadOnlyList<UpstreamModelInfo>> ListModelsAsync(CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, ModelsUri);
        AddAuthorization(message);
        return ModelListReader.Read(await _http.GetAsync(message, cancellationToken)).Models;
    }

    /// <summary>Adds <c>Authorization: Bearer</c> with the upstream's own key; local servers often need none.</summary>
    public void AddAuthorization(HttpRequestMessage message)
    {
        if (!string.IsNullOrEmpty(_options.ApiKey))
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.ApiKey);
        }
    }

    /// <summary>
    /// A chat completion or chunk stream translated into Claude's format; OpenAI's error types (<c>server_error</c>,
    /// <c>insufficient_quota</c>…) are not Claude's, so the status decides the type.
    /// </summary>
    private sealed class ChatAnswerReader(string upstream, ChatAnswerContext context, ILogger logger) : UpstreamAnswerReader
    {
        public override string RequestIdHeader => HeaderNames.XRequestId;

        public override ApiError MapError(ApiError answered) => answered with { Type = ApiError.TypeForStatus(answered.Status) };

        public override UpstreamResponse ReadMessage(byte[] body, string? upstreamRequestId)
        {
            var claude = ChatCompletionToClaude.Translate(body, context, out var estimated, out var answerError);
            if (claude is null)
            {
                Log.UnreadableAnswer(logger, upstream, upstreamRequestId);
                return UpstreamResponse.Failed(answerError!, upstreamRequestId);
            }

            return UpstreamResponse.Message(claude, upstreamRequestId, estimated);
        }

        public override UpstreamResponse ReadStream(IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>> events, string? upstreamRequestId, IDisposable owner)
        {
            var translator = new ChatStreamToClaude(context);
            return UpstreamResponse.Stream(new ChatStreamEvents(events, translator), upstreamRequestId, owner, () => translator.UsageEstimated);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2104, Level = LogLevel.Error, Message = "Upstream {Upstream} answered with a body that is not a chat completion, upstream request {UpstreamRequestId}")]
        public static partial void UnreadableAnswer(ILogger logger, string upstream, string? upstreamRequestId);
    }
}
