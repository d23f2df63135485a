using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Protocol.Sse;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// The one HTTP exchange every upstream adapter makes: the request sent with the headers-read option, one token that
/// the client leaving or the upstream's silence past the idle timeout cancels (re-armed per event, never a total
/// timeout), the error answer read and mapped, the whole body or the event stream handed to the adapter's
/// <see cref="UpstreamAnswerReader"/>, and every failure to reach the upstream turned into one Claude error. Whatever
/// the outcome, the connection is released here unless a stream now owns it. See docs/architecture.md.
/// </summary>
public sealed partial class UpstreamHttp(string upstream, HttpClient http, TimeSpan idleTimeout, ILogger logger)
{
    /// <summary>Largest upstream error body read; the rest is not needed to relay the error.</summary>
    private const int MaxErrorBodyBytes = 64 * 1024;

    /// <summary>
    /// A POST of a JSON body that carries the call's wait clock and asks for a stream or a whole answer. HTTP/1.1 or
    /// higher, as the upstream offers.
    /// </summary>
    public static HttpRequestMessage Post(Uri uri, byte[] body, bool stream, WaitClock? waits)
    {
        // The call's clock rides on the request itself (ClockedRequestMessage), not in its Options dictionary.
        var message = waits is null ? new HttpRequestMessage(HttpMethod.Post, uri) : new ClockedRequestMessage(HttpMethod.Post, uri, waits);
        message.Content = new UpstreamRequestContent(body);
        message.Version = HttpVersion.Version11;
        message.VersionPolicy = HttpVersionPolicy.RequestVersionOrHigher;
        // Set as it is: a well-formed constant needs no parsing into header objects.
        message.Headers.TryAddWithoutValidation("Accept", stream ? "text/event-stream" : "application/json");
        return message;
    }

    /// <summary>Appends a path to a base URL that may carry a path of its own (<c>…/anthropic</c>, <c>…/v1</c>).</summary>
    public static Uri Combine(Uri baseUrl, string path)
    {
        var text = baseUrl.AbsoluteUri;
        return new Uri(text.EndsWith('/') ? text + path : text + "/" + path);
    }

    /// <summary>
    /// Sends <paramref name="message"/> (and disposes it) and reads what came back into a Claude-format answer.
    /// </summary>
    public async Task<UpstreamResponse> SendAsync(
        HttpRequestMessage message, bool stream, UpstreamAnswerReader reader, WaitClock? waits, CancellationToken cancellationToken)
    {
        using var owned = message;
        CancellationTokenSource? timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(idleTimeout);
        HttpResponseMessage? response = null;
        try
        {
            response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var upstreamRequestId = FirstHeader(response, reader.RequestIdHeader);
            var rateLimit = RateLimitHeadroom.Read(response, DateTimeOffset.UtcNow);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var error = (int)response.StatusCode < 400
                    ? Unexpected(response.StatusCode)
                    : reader.MapError(await ReadErrorAsync(response, timeout.Token));
                Log.UpstreamError(logger, upstream, error.Status, error.Type, upstreamRequestId);
                return UpstreamResponse.Failed(error, upstreamRequestId).WithRateLimit(rateLimit);
            }

            if (!stream)
            {
                var whole = reader.ReadMessage(await UpstreamWaitHandler.ReadBodyAsync(response, waits, timeout.Token), upstreamRequestId);
                return whole.WithRateLimit(rateLimit);
            }

            if (!IsEventStream(response.Content.Headers))
            {
                Log.NotAStream(logger, upstream, response.Content.Headers.ContentType?.MediaType);
                return UpstreamResponse.Failed(
                    ApiError.From(ApiErrorKind.Internal, "The upstream did not answer with an event stream."), upstreamRequestId);
            }

            var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            var events = new IdleTimeoutEvents(new SseReader(body, timeout.Token), timeout, idleTimeout);
            var answer = reader.ReadStream(events, upstreamRequestId, new ResponseOwner(response, timeout));
            answer.WithRateLimit(rateLimit);
            // The stream owns the connection and the token now.
            response = null;
            timeout = null;
            return answer;
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException ||
                                          (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var timedOut = exception is OperationCanceledException;
            Log.UpstreamUnreachable(logger, upstream, timedOut, exception);
            return UpstreamResponse.Unreached(ApiError.From(ApiErrorKind.UpstreamUnavailable,
                timedOut ? "The upstream did not answer in time." : "The upstream could not be reached."));
        }
        finally
        {
            response?.Dispose();
            timeout?.Dispose();
        }
    }

    /// <summary>A GET of a whole JSON answer within the idle timeout; a non-2xx throws <see cref="HttpRequestException"/>.</summary>
    public async Task<byte[]> GetAsync(HttpRequestMessage message, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(idleTimeout);
        using var response = await http.SendAsync(message, timeout.Token);
        response.EnsureSuccessStatusCode();
        return await UpstreamWaitHandler.ReadBodyAsync(response, waits: null, timeout.Token);
    }

    /// <summary>
    /// A status no upstream of the Messages API should answer (<c>1xx</c> besides the connection's own, <c>2xx</c> other
    /// than <c>200</c>, a redirect the client must never be sent to): a <c>502</c>, never relayed.
    /// </summary>
    private static ApiError Unexpected(HttpStatusCode status) =>
        new(502, ErrorTypes.Api, $"The upstream answered with an unexpected status ({(int)status}).");

    /// <summary>
    /// The upstream's error as Claude's: its status, and its type and message when the body is an error envelope. The
    /// message keeps the upstream's wording (Claude Code's recovery matches on it), with only the operator's account
    /// identifiers masked (<see cref="UpstreamErrorText.MaskAccountIds"/>).
    /// </summary>
    public static async Task<ApiError> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
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
            ? new ApiError(status, type ?? ApiError.TypeForStatus(status), text is null ? $"The upstream answered {status}." : UpstreamErrorText.MaskAccountIds(text))
            : new ApiError(status, ApiError.TypeForStatus(status), $"The upstream answered {status}.");
        return error with { RetryAfterSeconds = RetryAfter(response) };
    }

    /// <summary>The longest <c>retry-after</c> taken from an upstream: an hour (a longer one rests a model no longer).</summary>
    public const double MaxRetryAfterSeconds = 3600;

    /// <summary>
    /// The upstream's <c>retry-after-ms</c> or <c>retry-after</c> (seconds or an HTTP date), relayed to the client; a value
    /// that is not a finite, non-negative number is ignored, and one over <see cref="MaxRetryAfterSeconds"/> is cut to it.
    /// </summary>
    public static double? RetryAfter(HttpResponseMessage response) => RetryAfterSeconds(response) is { } seconds && double.IsFinite(seconds) && seconds >= 0
        ? Math.Min(seconds, MaxRetryAfterSeconds)
        : null;

    private static double? RetryAfterSeconds(HttpResponseMessage response)
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

    /// <summary>
    /// Whether an answer's <c>Content-Type</c> is <c>text/event-stream</c>, parameters aside and in any case, read from
    /// the header's text as received rather than parsed into header objects for every stream.
    /// </summary>
    public static bool IsEventStream(HttpContentHeaders headers)
    {
        if (!headers.NonValidated.TryGetValues("Content-Type", out var values) || values.Count != 1)
        {
            return false;
        }

        var value = values.ToString().AsSpan();
        var parameters = value.IndexOf(';');
        return (parameters < 0 ? value : value[..parameters]).Trim(" \t").Equals("text/event-stream", StringComparison.OrdinalIgnoreCase);
    }

    public static string? FirstHeader(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    /// <summary>
    /// Cancels the stream's token once a read has waited <c>idle</c> since it began, so only silence, never a long
    /// answer, times out. A read notes its start (one timestamp); one timer per stream looks when it is due and, if a read
    /// began since, sleeps for the rest of that read's allowance. The per-event cost is a read of the coarse clock (a few
    /// milliseconds' resolution, for a timeout of seconds), not a timer re-armed per event
    /// (docs/performance.md#cpu-per-streamed-event).
    /// </summary>
    private sealed class IdleTimeoutEvents : IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>>
    {
        private readonly IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>> _inner;
        private readonly CancellationTokenSource _timeout;
        private readonly TimeSpan _idle;
        private readonly Timer _timer;
        private long _readStarted;

        public IdleTimeoutEvents(IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>> inner, CancellationTokenSource timeout, TimeSpan idle)
        {
            _inner = inner;
            _timeout = timeout;
            _idle = idle;
            _readStarted = Environment.TickCount64;
            // From here this timer, not the token's own, watches for silence.
            timeout.CancelAfter(Timeout.InfiniteTimeSpan);
            _timer = new Timer(static state => ((IdleTimeoutEvents)state!).Check(), this, idle, Timeout.InfiniteTimeSpan);
        }

        public SseItem<ReadOnlyMemory<byte>> Current => _inner.Current;

        public ValueTask<bool> MoveNextAsync()
        {
            Volatile.Write(ref _readStarted, Environment.TickCount64);
            return _inner.MoveNextAsync();
        }

        public async ValueTask DisposeAsync()
        {
            await _timer.DisposeAsync();
            await _inner.DisposeAsync();
        }

        private void Check()
        {
            var silent = TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _readStarted));
            try
            {
                if (silent >= _idle)
                {
                    _timeout.Cancel();
                }
                else
                {
                    _timer.Change(_idle - silent, Timeout.InfiniteTimeSpan);
                }
            }
            catch (ObjectDisposedException)
            {
                // The stream was released meanwhile: nothing is left to time out.
            }
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
    }
}
