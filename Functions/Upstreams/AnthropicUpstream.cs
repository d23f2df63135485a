using System.Globalization;
using System.Net;
using System.Net.ServerSentEvents;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Protocol.Sse;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// Anthropic's API or any Anthropic-compatible host (Azure AI Foundry's <c>/anthropic</c> endpoint, say): the body
/// is forwarded as the client sent it (model name mapped), with the upstream's own key, and the answer comes back
/// as it is: a stream event by event, parsed only enough to count usage.
/// </summary>
public sealed partial class AnthropicUpstream : IUpstream, ITokenCountingUpstream, IModelListingUpstream
{
    /// <summary>Largest upstream error body read; the rest is not needed to relay the error.</summary>
    private const int MaxErrorBodyBytes = 64 * 1024;

    private readonly HttpClient _http;
    private readonly UpstreamOptions _options;
    private readonly Uri _messagesUri;
    private readonly string[]? _betaAllowList;
    private readonly ILogger _logger;

    public AnthropicUpstream(string name, UpstreamOptions options, HttpClient http, ILogger logger)
    {
        Name = name;
        _options = options;
        _http = http;
        _logger = logger;
        _messagesUri = Combine(options.BaseUrl!, "v1/messages");
        _betaAllowList = options.BetaAllowList is null ? null : ModelPattern.Parse(options.BetaAllowList);
    }

    public string Name { get; }

    /// <summary>Appends a path to a base URL that may carry a path of its own (<c>…/anthropic</c>).</summary>
    public static Uri Combine(Uri baseUrl, string path)
    {
        var text = baseUrl.AbsoluteUri;
        return new Uri(text.EndsWith('/') ? text + path : text + "/" + path);
    }

    public async Task<UpstreamResponse> SendMessagesAsync(MessagesRequest request, string upstreamModel, CancellationToken cancellationToken)
    {
        var body = upstreamModel == request.Model
            ? request.Body
            : JsonRewriter.WithTopLevelString(request.Root, "model", upstreamModel);

        using var message = new HttpRequestMessage(HttpMethod.Post, _messagesUri)
        {
            Content = new UpstreamRequestContent(body),
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrHigher,
        };
        var headers = message.Headers;
        if (!string.IsNullOrEmpty(_options.ApiKey))
        {
            headers.TryAddWithoutValidation(HeaderNames.ApiKey, _options.ApiKey);
        }

        headers.TryAddWithoutValidation(HeaderNames.AnthropicVersion, request.AnthropicVersion);
        if (HeaderPolicy.FilterBetas(request.AnthropicBeta, _betaAllowList) is { } betas)
        {
            headers.TryAddWithoutValidation(HeaderNames.AnthropicBeta, betas);
        }

        foreach (var (name, value) in request.ExtraAnthropicHeaders)
        {
            headers.TryAddWithoutValidation(name, value);
        }

        headers.Accept.ParseAdd(request.Stream ? "text/event-stream" : "application/json");

        // One token source for the whole call: the client going away cancels it, and silence from the upstream for
        // longer than the idle timeout (re-armed per event, never a total timeout) does too.
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.IdleTimeout);
        HttpResponseMessage? response = null;
        try
        {
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var upstreamRequestId = FirstHeader(response, HeaderNames.RequestId);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var error = await ReadErrorAsync(response, timeout.Token);
                Log.UpstreamError(_logger, Name, (int)response.StatusCode, error.Type, upstreamRequestId);
                response.Dispose();
                timeout.Dispose();
                return UpstreamResponse.Failed(error, upstreamRequestId);
            }

            if (!request.Stream)
            {
                var bytes = await UpstreamWaitHandler.ReadBodyAsync(response, timeout.Token);
                response.Dispose();
                timeout.Dispose();
                if (!JsonShape.IsObject(bytes))
                {
                    // A 200 whose body is not a message (an HTML page from a proxy, a cut body) must not reach the client as one.
                    Log.NotJson(_logger, Name, upstreamRequestId);
                    return UpstreamResponse.Failed(
                        ApiError.From(ApiErrorKind.Internal, "The upstream answered with a body that is not JSON."), upstreamRequestId);
                }

                return UpstreamResponse.Message(bytes, upstreamRequestId);
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
            var events = new SseReader(stream, timeout.Token);
            var owner = new CallOwner(response, timeout);
            return UpstreamResponse.Stream(new CheckedClaudeEvents(new IdleTimeoutEnumerator(events, timeout, _options.IdleTimeout)), upstreamRequestId, owner);
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

    /// <summary>Forwards <c>count_tokens</c> with the same body and headers rules as a Messages call (spec §5.2).</summary>
    public async Task<UpstreamResponse> CountTokensAsync(MessagesRequest request, string upstreamModel, CancellationToken cancellationToken)
    {
        var body = upstreamModel == request.Model
            ? request.Body
            : JsonRewriter.WithTopLevelString(request.Root, "model", upstreamModel);
        using var message = new HttpRequestMessage(HttpMethod.Post, Combine(_options.BaseUrl!, "v1/messages/count_tokens"))
        {
            Content = new UpstreamRequestContent(body),
        };
        var headers = message.Headers;
        if (!string.IsNullOrEmpty(_options.ApiKey))
        {
            headers.TryAddWithoutValidation(HeaderNames.ApiKey, _options.ApiKey);
        }

        headers.TryAddWithoutValidation(HeaderNames.AnthropicVersion, request.AnthropicVersion);
        if (HeaderPolicy.FilterBetas(request.AnthropicBeta, _betaAllowList) is { } betas)
        {
            headers.TryAddWithoutValidation(HeaderNames.AnthropicBeta, betas);
        }

        foreach (var (name, value) in request.ExtraAnthropicHeaders)
        {
            headers.TryAddWithoutValidation(name, value);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.IdleTimeout);
        try
        {
            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var upstreamRequestId = FirstHeader(response, HeaderNames.RequestId);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var error = await ReadErrorAsync(response, timeout.Token);
                Log.UpstreamError(_logger, Name, (int)response.StatusCode, error.Type, upstreamRequestId);
                return UpstreamResponse.Failed(error, upstreamRequestId);
            }

            return UpstreamResponse.Message(await UpstreamWaitHandler.ReadBodyAsync(response, timeout.Token), upstreamRequestId);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException ||
                                          (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var timedOut = exception is OperationCanceledException;
            Log.UpstreamUnreachable(_logger, Name, timedOut, exception);
            return UpstreamResponse.Failed(ApiError.From(ApiErrorKind.UpstreamUnavailable,
                timedOut ? "The upstream did not answer in time." : "The upstream could not be reached."));
        }
    }

    /// <summary>The upstream's <c>GET /v1/models</c>, every page (at most ten of 1000).</summary>
    public async Task<IReadOnlyList<UpstreamModelInfo>> ListModelsAsync(CancellationToken cancellationToken)
    {
        var models = new List<UpstreamModelInfo>();
        string? after = null;
        for (var page = 0; page < 10; page++)
        {
            var query = "v1/models?limit=1000" + (after is null ? "" : "&after_id=" + Uri.EscapeDataString(after));
            using var message = new HttpRequestMessage(HttpMethod.Get, Combine(_options.BaseUrl!, query));
            if (!string.IsNullOrEmpty(_options.ApiKey))
            {
                message.Headers.TryAddWithoutValidation(HeaderNames.ApiKey, _options.ApiKey);
            }

            message.Headers.TryAddWithoutValidation(HeaderNames.AnthropicVersion, AnthropicVersions.Default);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.IdleTimeout);
            using var response = await _http.SendAsync(message, timeout.Token);
            response.EnsureSuccessStatusCode();
            var (items, hasMore, lastId) = ModelListReader.Read(await UpstreamWaitHandler.ReadBodyAsync(response, timeout.Token));
            models.AddRange(items);
            if (!hasMore || lastId is null || lastId == after)
            {
                break;
            }

            after = lastId;
        }

        return models;
    }

    internal static async Task<ApiError> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        byte[] body;
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[MaxErrorBodyBytes];
            var read = 0;
            int count;
            while (read < buffer.Length && (count = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken)) > 0)
            {
                read += count;
            }

            body = buffer[..read];
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException)
        {
            body = [];
        }

        var error = ErrorEnvelope.TryRead(body, out var type, out var text)
            ? new ApiError(status, type ?? ApiError.TypeForStatus(status), text ?? $"The upstream answered {status}.")
            : new ApiError(status, ApiError.TypeForStatus(status), $"The upstream answered {status}.");
        return error with { RetryAfterSeconds = RetryAfter(response) };
    }

    /// <summary>The upstream's <c>retry-after-ms</c> or <c>retry-after</c> (seconds or an HTTP date), relayed to the client.</summary>
    internal static double? RetryAfter(HttpResponseMessage response)
    {
        if (FirstHeader(response, HeaderNames.RetryAfterMs) is { } ms &&
            double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds))
        {
            return milliseconds / 1000;
        }

        if (response.Headers.RetryAfter is { } retryAfter)
        {
            if (retryAfter.Delta is { } delta)
            {
                return delta.TotalSeconds;
            }

            if (retryAfter.Date is { } date)
            {
                return Math.Max(0, (date - DateTimeOffset.UtcNow).TotalSeconds);
            }
        }

        return null;
    }

    internal static string? FirstHeader(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    /// <summary>Re-arms the idle timeout before each read, so only silence, never a long answer, times out.</summary>
    internal sealed class IdleTimeoutEnumerator(IAsyncEnumerator<SseItem<byte[]>> inner, CancellationTokenSource timeout, TimeSpan idle)
        : IAsyncEnumerator<SseItem<byte[]>>
    {
        public SseItem<byte[]> Current => inner.Current;

        public ValueTask<bool> MoveNextAsync()
        {
            timeout.CancelAfter(idle);
            return inner.MoveNextAsync();
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    internal sealed class CallOwner(HttpResponseMessage response, CancellationTokenSource timeout) : IDisposable
    {
        public void Dispose()
        {
            response.Dispose();
            timeout.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, Level = LogLevel.Warning,
            Message = "Upstream {Upstream} answered {Status} ({ErrorType}), upstream request {UpstreamRequestId}")]
        public static partial void UpstreamError(ILogger logger, string upstream, int status, string errorType, string? upstreamRequestId);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "Upstream {Upstream} unreachable (timed out: {TimedOut})")]
        public static partial void UpstreamUnreachable(ILogger logger, string upstream, bool timedOut, Exception exception);

        [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "Upstream {Upstream} answered a stream request with {MediaType}")]
        public static partial void NotAStream(ILogger logger, string upstream, string? mediaType);

        [LoggerMessage(EventId = 2004, Level = LogLevel.Error, Message = "Upstream {Upstream} answered 200 with a body that is not JSON, upstream request {UpstreamRequestId}")]
        public static partial void NotJson(ILogger logger, string upstream, string? upstreamRequestId);
    }
}
