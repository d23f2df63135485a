using System.Collections.Frozen;
using System.Net.ServerSentEvents;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Files;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// Anthropic's API or any Anthropic-compatible host (Azure AI Foundry's <c>/anthropic</c> endpoint, say): the body
/// is forwarded as the client sent it (model name mapped), with the upstream's own key, and the answer comes back
/// as it is: a stream event by event, parsed only enough to count usage. See docs/wire-contract.md.
/// </summary>
public sealed partial class AnthropicUpstream : IUpstream, ITokenCountingUpstream, IModelListingUpstream, IFileUpstream
{
    private readonly UpstreamOptions _options;
    private readonly UpstreamHttp _http;
    private readonly Uri _messagesUri;
    private readonly Uri _countTokensUri;
    private readonly string[]? _betaAllowList;
    private readonly FrozenSet<string> _dropHeaders;
    private readonly MessagesReader _messages;
    private readonly CountReader _counts = new();

    public AnthropicUpstream(string name, UpstreamOptions options, HttpClient http, ILogger logger)
    {
        Name = name;
        _options = options;
        _http = new UpstreamHttp(name, http, options.IdleTimeout, logger);
        _messages = new MessagesReader(name, logger);
        _messagesUri = UpstreamHttp.Combine(options.BaseUrl!, "v1/messages");
        _countTokensUri = UpstreamHttp.Combine(options.BaseUrl!, "v1/messages/count_tokens");
        _betaAllowList = options.BetaAllowList is null ? null : ModelPattern.Parse(options.BetaAllowList);
        _dropHeaders = HeaderPolicy.DropList(options.DropHeaders);
        Files = new AnthropicFiles(name, options.BaseUrl!, http, options.IdleTimeout,
            (message, headers) => AddHeaders(message, headers.AnthropicVersion, headers.Betas, headers.Extra), logger);
    }

    public string Name { get; }

    /// <summary>The deployment's Files API (docs/files.md), under the same header rules as its Messages calls.</summary>
    public IUpstreamFiles Files { get; }

    public Task<UpstreamResponse> SendMessagesAsync(
        MessagesRequest request, string upstreamModel, WaitClock? waits, CancellationToken cancellationToken)
    {
        var message = UpstreamHttp.Post(_messagesUri, BodyFor(request, upstreamModel), request.Stream, waits);
        AddHeaders(message, request);
        return _http.SendAsync(message, request.Stream, _messages, waits, cancellationToken);
    }

    /// <summary>Forwards <c>count_tokens</c> with the same body and header rules as a Messages call (docs/wire-contract.md).</summary>
    public Task<UpstreamResponse> CountTokensAsync(
        MessagesRequest request, string upstreamModel, WaitClock? waits, CancellationToken cancellationToken)
    {
        var message = UpstreamHttp.Post(_countTokensUri, BodyFor(request, upstreamModel), stream: false, waits);
        AddHeaders(message, request);
        return _http.SendAsync(message, stream: false, _counts, waits, cancellationToken);
    }

    /// <summary>The upstream's <c>GET /v1/models</c>, every page (at most ten of 1000).</summary>
    public async Task<IReadOnlyList<UpstreamModelInfo>> ListModelsAsync(CancellationToken cancellationToken)
    {
        var models = new List<UpstreamModelInfo>();
        string? after = null;
        for (var page = 0; page < 10; page++)
        {
            var query = "v1/models?limit=1000" + (after is null ? "" : "&after_id=" + Uri.EscapeDataString(after));
            using var message = new HttpRequestMessage(HttpMethod.Get, UpstreamHttp.Combine(_options.BaseUrl!, query));
            AddCredentials(message);
            message.Headers.TryAddWithoutValidation(HeaderNames.AnthropicVersion, AnthropicVersions.Default);
            var (items, hasMore, lastId) = ModelListReader.Read(await _http.GetAsync(message, cancellationToken));
            models.AddRange(items);
            if (!hasMore || lastId is null || lastId == after)
            {
                break;
            }

            after = lastId;
        }

        return models;
    }

    /// <summary>
    /// The client's body as it came, but for the model name when the upstream knows the model by another, and a
    /// <c>temperature</c> above Claude's 1 when the request was translated from OpenAI's 0–2 range.
    /// </summary>
    private static byte[] BodyFor(MessagesRequest request, string upstreamModel)
    {
        var clampTemperature = request.TemperatureAboveClaudeRange;
        if (upstreamModel == request.Model && !clampTemperature)
        {
            return request.Body;
        }

        return JsonRewriter.WithTopLevelValues(request.Root, upstreamModel == request.Model ? null : upstreamModel, clampTemperature ? 1 : null);
    }

    /// <summary>
    /// The upstream's key, and the client's <c>anthropic-*</c> headers as sent (betas filtered by the allow list), less
    /// those the operator drops for this upstream (<c>DropHeaders</c>).
    /// </summary>
    private void AddHeaders(HttpRequestMessage message, MessagesRequest request) =>
        AddHeaders(message, request.AnthropicVersion, request.AnthropicBeta, request.ExtraAnthropicHeaders);

    private void AddHeaders(HttpRequestMessage message, string version, string? beta, IReadOnlyList<KeyValuePair<string, string>> extra)
    {
        AddCredentials(message);
        var headers = message.Headers;
        headers.TryAddWithoutValidation(HeaderNames.AnthropicVersion, version);
        if (HeaderPolicy.FilterBetas(beta, _betaAllowList) is { } betas && !_dropHeaders.Contains(HeaderNames.AnthropicBeta))
        {
            headers.TryAddWithoutValidation(HeaderNames.AnthropicBeta, betas);
        }

        foreach (var (name, value) in extra)
        {
            if (!_dropHeaders.Contains(name))
            {
                headers.TryAddWithoutValidation(name, value);
            }
        }
    }

    private void AddCredentials(HttpRequestMessage message)
    {
        if (!string.IsNullOrEmpty(_options.ApiKey))
        {
            message.Headers.TryAddWithoutValidation(HeaderNames.ApiKey, _options.ApiKey);
        }
    }

    /// <summary>A Messages answer: a JSON message relayed as it is, or an event stream checked event by event.</summary>
    private sealed class MessagesReader(string upstream, ILogger logger) : UpstreamAnswerReader
    {
        public override string RequestIdHeader => HeaderNames.RequestId;

        public override UpstreamResponse ReadMessage(byte[] body, string? upstreamRequestId)
        {
            if (!JsonShape.IsObject(body))
            {
                // A 200 whose body is not a message (an HTML page from a proxy, a cut body) must not reach the client as one.
                Log.NotJson(logger, upstream, upstreamRequestId);
                return UpstreamResponse.Failed(
                    ApiError.From(ApiErrorKind.Internal, "The upstream answered with a body that is not JSON."), upstreamRequestId);
            }

            return UpstreamResponse.Message(body, upstreamRequestId);
        }

        public override UpstreamResponse ReadStream(IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>> events, string? upstreamRequestId, IDisposable owner) =>
            UpstreamResponse.Stream(new CheckedClaudeEvents(events), upstreamRequestId, owner);
    }

    /// <summary>A <c>count_tokens</c> answer, relayed whole.</summary>
    private sealed class CountReader : UpstreamAnswerReader
    {
        public override string RequestIdHeader => HeaderNames.RequestId;

        public override UpstreamResponse ReadMessage(byte[] body, string? upstreamRequestId) => UpstreamResponse.Message(body, upstreamRequestId);

        public override UpstreamResponse ReadStream(IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>> events, string? upstreamRequestId, IDisposable owner) =>
            throw new NotSupportedException("count_tokens never streams.");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2004, Level = LogLevel.Error, Message = "Upstream {Upstream} answered 200 with a body that is not JSON, upstream request {UpstreamRequestId}")]
        public static partial void NotJson(ILogger logger, string upstream, string? upstreamRequestId);
    }
}
