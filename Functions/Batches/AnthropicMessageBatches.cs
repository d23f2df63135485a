using System.Collections.Frozen;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// An Anthropic deployment's Message Batches API (<c>/v1/messages/batches</c>), with the deployment's own key and the
/// client's <c>anthropic-*</c> headers under the same rules as a Messages call (beta allow list, dropped headers). An
/// error answer is relayed as Messages calls relay it (<see cref="UpstreamHttp.ReadErrorAsync"/>); each exchange is
/// bounded by the deployment's idle timeout, re-armed as results arrive.
/// </summary>
public sealed partial class AnthropicMessageBatches : IMessageBatches
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly string _name;
    private readonly UpstreamOptions _options;
    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly Uri _batchesUri;
    private readonly string[]? _betaAllowList;
    private readonly FrozenSet<string> _dropHeaders;

    public AnthropicMessageBatches(string name, UpstreamOptions options, HttpClient http, ILogger logger)
    {
        _name = name;
        _options = options;
        _http = http;
        _logger = logger;
        _batchesUri = UpstreamHttp.Combine(options.BaseUrl!, "v1/messages/batches");
        _betaAllowList = options.BetaAllowList is null ? null : ModelPattern.Parse(options.BetaAllowList);
        _dropHeaders = HeaderPolicy.DropList(options.DropHeaders);
    }

    public Task<BatchReply> CreateAsync(Stream body, long length, BatchCallHeaders headers, CancellationToken cancellationToken)
    {
        var content = new StreamContent(body, 64 * 1024);
        content.Headers.ContentType = Json;
        content.Headers.ContentLength = length;
        return SendAsync(HttpMethod.Post, _batchesUri, content, headers, cancellationToken);
    }

    public Task<BatchReply> RetrieveAsync(string id, BatchCallHeaders headers, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, BatchUri(id, ""), null, headers, cancellationToken);

    public Task<BatchReply> CancelAsync(string id, BatchCallHeaders headers, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, BatchUri(id, "/cancel"), null, headers, cancellationToken);

    public Task<BatchReply> DeleteAsync(string id, BatchCallHeaders headers, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, BatchUri(id, ""), null, headers, cancellationToken);

    public async Task<BatchResultsReply> ResultsAsync(string id, BatchCallHeaders headers, CancellationToken cancellationToken)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.IdleTimeout);
        HttpResponseMessage? response = null;
        try
        {
            using var message = Message(HttpMethod.Get, BatchUri(id, "/results"), null, headers);
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return BatchResultsReply.Failed(await ErrorOfAsync(response, timeout.Token));
            }

            var stream = new ReadOnlyViewStream(await response.Content.ReadAsStreamAsync(timeout.Token), idle: timeout, idleTimeout: _options.IdleTimeout);
            var reply = new BatchResultsReply(stream, response.Content.Headers.ContentType?.ToString(), null, new ResponseOwner(response, timeout));
            response = null;
            timeout = null;
            return reply;
        }
        catch (Exception exception) when (Unreached(exception, cancellationToken))
        {
            return BatchResultsReply.Failed(UnreachedError(exception));
        }
        finally
        {
            response?.Dispose();
            timeout?.Dispose();
        }
    }

    private async Task<BatchReply> SendAsync(HttpMethod method, Uri uri, HttpContent? content, BatchCallHeaders headers, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.IdleTimeout);
        try
        {
            using var message = Message(method, uri, content, headers);
            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return BatchReply.Failed(await ErrorOfAsync(response, timeout.Token));
            }

            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            if (!JsonShape.IsObject(body))
            {
                return BatchReply.Failed(ApiError.From(ApiErrorKind.Internal, "The upstream answered with a body that is not JSON."));
            }

            return BatchReply.Of(body);
        }
        catch (Exception exception) when (Unreached(exception, cancellationToken))
        {
            return BatchReply.Failed(UnreachedError(exception));
        }
    }

    private Uri BatchUri(string id, string suffix) => new(_batchesUri.AbsoluteUri + "/" + Uri.EscapeDataString(id) + suffix);

    private HttpRequestMessage Message(HttpMethod method, Uri uri, HttpContent? content, BatchCallHeaders headers)
    {
        var message = new HttpRequestMessage(method, uri)
        {
            Content = content,
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrHigher,
        };
        var sent = message.Headers;
        if (!string.IsNullOrEmpty(_options.ApiKey))
        {
            sent.TryAddWithoutValidation(HeaderNames.ApiKey, _options.ApiKey);
        }

        sent.TryAddWithoutValidation(HeaderNames.AnthropicVersion, headers.Version);
        if (HeaderPolicy.FilterBetas(headers.Beta, _betaAllowList) is { } betas && !_dropHeaders.Contains(HeaderNames.AnthropicBeta))
        {
            sent.TryAddWithoutValidation(HeaderNames.AnthropicBeta, betas);
        }

        foreach (var (name, value) in headers.Extra)
        {
            if (!_dropHeaders.Contains(name))
            {
                sent.TryAddWithoutValidation(name, value);
            }
        }

        return message;
    }

    private async Task<ApiError> ErrorOfAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var error = (int)response.StatusCode < 400
            ? new ApiError(502, ErrorTypes.Api, $"The upstream answered with an unexpected status ({(int)response.StatusCode}).")
            : await UpstreamHttp.ReadErrorAsync(response, cancellationToken);
        Log.UpstreamError(_logger, _name, error.Status, error.Type, UpstreamHttp.FirstHeader(response, HeaderNames.RequestId));
        return error;
    }

    private static bool Unreached(Exception exception, CancellationToken cancellationToken) =>
        exception is HttpRequestException or IOException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private ApiError UnreachedError(Exception exception)
    {
        var timedOut = exception is OperationCanceledException;
        Log.Unreachable(_logger, _name, timedOut, exception);
        return ApiError.From(ApiErrorKind.UpstreamUnavailable, timedOut ? "The upstream did not answer in time." : "The upstream could not be reached.");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2501, Level = LogLevel.Warning,
            Message = "Upstream {Upstream} answered a batch call {Status} ({ErrorType}), upstream request {UpstreamRequestId}")]
        public static partial void UpstreamError(ILogger logger, string upstream, int status, string errorType, string? upstreamRequestId);

        [LoggerMessage(EventId = 2502, Level = LogLevel.Error, Message = "Upstream {Upstream} unreachable for a batch call (timed out: {TimedOut})")]
        public static partial void Unreachable(ILogger logger, string upstream, bool timedOut, Exception exception);
    }
}
