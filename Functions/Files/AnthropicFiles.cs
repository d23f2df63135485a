using System.Net;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Files;

/// <summary>
/// Anthropic's Files API (<c>/v1/files</c>) of one deployment: the client's multipart body streamed to it as it arrives
/// (no copy of the file is kept, whatever its size), a download streamed back, a deletion. The upstream's own key and
/// the client's <c>anthropic-*</c> headers go with each call, as for a Messages call; one idle timeout, re-armed per
/// read of either body, and the client's leaving cancel it (docs/files.md).
/// </summary>
public sealed partial class AnthropicFiles(
    string upstream, Uri baseUrl, HttpClient http, TimeSpan idleTimeout, Action<HttpRequestMessage, FileCallHeaders> addHeaders, ILogger logger)
    : IUpstreamFiles
{
    /// <summary>The largest file object or deletion answer read; Anthropic's are a few hundred bytes.</summary>
    private const int MaxJsonBytes = 256 * 1024;

    private readonly Uri _files = UpstreamHttp.Combine(baseUrl, "v1/files");

    public async Task<UpstreamFileAnswer> UploadAsync(FileUpload upload, FileCallHeaders headers, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(idleTimeout);
        // Each read of the client's body re-arms the idle timeout: a slow upload is fine, a stalled one is not.
        var content = new StreamContent(new MeteredStream(upload.Body, onRead: () => timeout.CancelAfter(idleTimeout)), 64 * 1024);
        content.Headers.TryAddWithoutValidation("Content-Type", upload.ContentType);
        content.Headers.ContentLength = upload.Length;
        using var message = new HttpRequestMessage(HttpMethod.Post, _files) { Content = content };
        return await SendForJsonAsync(message, headers, timeout, cancellationToken);
    }

    public async Task<UpstreamFileAnswer> DownloadAsync(string upstreamId, FileCallHeaders headers, CancellationToken cancellationToken)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(idleTimeout);
        HttpResponseMessage? response = null;
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Get, FileUri(upstreamId, "/content"));
            addHeaders(message, headers);
            response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var requestId = UpstreamHttp.FirstHeader(response, HeaderNames.RequestId);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return await ErrorAsync(response, requestId, timeout.Token);
            }

            var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            var idle = timeout;
            var answer = UpstreamFileAnswer.OfContent(
                new MeteredStream(body, onRead: () => idle.CancelAfter(idleTimeout)), response.Content.Headers.ContentType?.ToString(),
                response.Content.Headers.ContentLength, new ResponseOwner(response, timeout), requestId);
            // The answer owns the connection and the token now.
            response = null;
            timeout = null;
            return answer;
        }
        catch (Exception exception) when (Failure(exception, cancellationToken) is { } failure)
        {
            return failure;
        }
        finally
        {
            response?.Dispose();
            timeout?.Dispose();
        }
    }

    public async Task<UpstreamFileAnswer> DeleteAsync(string upstreamId, FileCallHeaders headers, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(idleTimeout);
        using var message = new HttpRequestMessage(HttpMethod.Delete, FileUri(upstreamId, ""));
        return await SendForJsonAsync(message, headers, timeout, cancellationToken);
    }

    private Uri FileUri(string upstreamId, string suffix) => new(_files.AbsoluteUri + "/" + Uri.EscapeDataString(upstreamId) + suffix);

    private async Task<UpstreamFileAnswer> SendForJsonAsync(
        HttpRequestMessage message, FileCallHeaders headers, CancellationTokenSource timeout, CancellationToken cancellationToken)
    {
        addHeaders(message, headers);
        message.Headers.Accept.ParseAdd("application/json");
        try
        {
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var requestId = UpstreamHttp.FirstHeader(response, HeaderNames.RequestId);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return await ErrorAsync(response, requestId, timeout.Token);
            }

            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            var json = new byte[MaxJsonBytes];
            var read = 0;
            int count;
            while (read < json.Length && (count = await body.ReadAsync(json.AsMemory(read), timeout.Token)) > 0)
            {
                read += count;
            }

            if (!JsonShape.IsObject(json.AsSpan(0, read)))
            {
                Log.NotJson(logger, upstream, requestId);
                return UpstreamFileAnswer.Failed(ApiError.From(ApiErrorKind.Internal, "The upstream answered with a body that is not JSON."), requestId);
            }

            return UpstreamFileAnswer.OfJson(json[..read], requestId);
        }
        catch (Exception exception) when (Failure(exception, cancellationToken) is { } failure)
        {
            return failure;
        }
    }

    private async Task<UpstreamFileAnswer> ErrorAsync(HttpResponseMessage response, string? requestId, CancellationToken cancellationToken)
    {
        var error = (int)response.StatusCode < 400
            ? new ApiError(502, ErrorTypes.Api, $"The upstream answered with an unexpected status ({(int)response.StatusCode}).")
            : await UpstreamHttp.ReadErrorAsync(response, cancellationToken);
        Log.UpstreamError(logger, upstream, error.Status, error.Type, requestId);
        return UpstreamFileAnswer.Failed(error, requestId);
    }

    /// <summary>
    /// What a failed exchange means: the upload grew too large, the client left (its body stopped, or it hung up), or
    /// the upstream could not be reached or went silent. Anything else is a fault of the gateway and is not caught.
    /// </summary>
    private UpstreamFileAnswer? Failure(Exception exception, CancellationToken cancellationToken)
    {
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is FileTooLargeException)
            {
                return UpstreamFileAnswer.OverLimit;
            }
        }

        if (cancellationToken.IsCancellationRequested || exception is Microsoft.AspNetCore.Http.BadHttpRequestException ||
            exception.InnerException is Microsoft.AspNetCore.Http.BadHttpRequestException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            return UpstreamFileAnswer.Left;
        }

        if (exception is HttpRequestException or IOException or OperationCanceledException)
        {
            var timedOut = exception is OperationCanceledException;
            Log.Unreachable(logger, upstream, timedOut, exception);
            return UpstreamFileAnswer.Unreached(timedOut);
        }

        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2301, Level = LogLevel.Warning,
            Message = "Upstream {Upstream} answered a file operation {Status} ({ErrorType}), upstream request {UpstreamRequestId}")]
        public static partial void UpstreamError(ILogger logger, string upstream, int status, string errorType, string? upstreamRequestId);

        [LoggerMessage(EventId = 2302, Level = LogLevel.Error, Message = "Upstream {Upstream} unreachable for a file operation (timed out: {TimedOut})")]
        public static partial void Unreachable(ILogger logger, string upstream, bool timedOut, Exception exception);

        [LoggerMessage(EventId = 2303, Level = LogLevel.Error, Message = "Upstream {Upstream} answered a file operation 200 with a body that is not JSON, upstream request {UpstreamRequestId}")]
        public static partial void NotJson(ILogger logger, string upstream, string? upstreamRequestId);
    }
}
