using System.Net.ServerSentEvents;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Protocol.Sse;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>
/// Relays a Claude event stream: each upstream event is written and flushed as it arrives, usage is counted on the
/// way, <c>ping</c> keeps a silent stream alive, an upstream failure becomes one SSE <c>error</c> event (no
/// <c>message_stop</c>), and a client that leaves cancels the upstream call. The usage record is written last.
/// </summary>
public sealed partial class StreamResult(
    UpstreamResponse upstream,
    SseItem<byte[]>? firstEvent,
    Task<bool>? pendingFirst,
    string? modelToRestore,
    GatewayContext gateway,
    CallRecorder call,
    StreamingOptions streaming,
    TimeProvider time,
    ILogger logger) : IResult
{
    /// <summary>"event: ", "data: " and the three line ends around an event's name and data.</summary>
    private const int SseFramingBytes = 16;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        var aborted = httpContext.RequestAborted;
        var writer = response.BodyWriter;
        var meter = new UsageMeter();
        var events = upstream.Events!;
        var state = UsageStates.Complete;
        string? errorType = null;
        var unflushed = 0;

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await using var keepAlive = new KeepAliveWait(writer, SseWriter.PingEvent, streaming.PingInterval, time, gateway, aborted);

        try
        {
            if (firstEvent is { } first)
            {
                Relay(first);
            }

            // The headers (and the first event, if here) leave at once; with no first event yet, the upstream was
            // silent too long: headers now, pings meanwhile.
            await FlushAsync();
            call.MarkFirstByte();
            // Let the server's sender (queued by that flush) run before the relay goes on with events already here:
            // on a busy machine it would otherwise wait for a whole burst to be relayed before the first byte leaves.
            await Task.Yield();

            while (true)
            {
                // Events that arrived together leave together: the relay flushes when the next event is not here yet
                // (or enough is waiting), so no event ever waits for a later one, and a burst costs one write, not one
                // per event (issue 5).
                var next = NextEvent();
                if (unflushed > 0 && (!next.IsCompleted || unflushed >= StreamRelay.MaxUnflushedBytes))
                {
                    await FlushAsync();
                }

                if (!await keepAlive.NextAsync(next))
                {
                    break;
                }

                var item = events.Current;
                Relay(item);
                if (item.EventType == EventNames.Error)
                {
                    state = UsageStates.Truncated;
                    errorType = meter.ErrorType;
                    break;
                }

                if (item.EventType == EventNames.MessageStop)
                {
                    break;
                }
            }

            if (state == UsageStates.Complete && !meter.SawMessageStop)
            {
                state = UsageStates.Truncated;
                errorType = ErrorTypes.Api;
                await WriteErrorAsync(ApiError.From(ApiErrorKind.Internal, "The upstream ended the stream before the message was complete."));
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            state = UsageStates.Cancelled;
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException or OperationCanceledException)
        {
            if (aborted.IsCancellationRequested || exception is ClientLeftException)
            {
                state = UsageStates.Cancelled;
            }
            else
            {
                // The upstream reset, stalled past the idle timeout, or sent something unreadable.
                Log.UpstreamFailedMidStream(logger, call.RequestId, call.Upstream, exception);
                state = UsageStates.Truncated;
                var error = StreamRelay.MidStreamError(exception);
                errorType = error.Type;
                await TryWriteErrorAsync(error);
            }
        }
        finally
        {
            await StreamRelay.FinishAsync(response, upstream, pendingFirst, meter, call, state, errorType);
        }

        void Relay(SseItem<byte[]> item)
        {
            meter.ObserveEvent(item.EventType, item.Data);
            var data = item.Data;
            if (modelToRestore is not null && item.EventType == EventNames.MessageStart)
            {
                data = JsonRewriter.WithMessageModel(data, modelToRestore);
            }

            if (item.EventType == EventNames.Error)
            {
                data = ErrorEnvelope.Claude(new ApiError(ApiError.StatusForType(meter.ErrorType), meter.ErrorType ?? ErrorTypes.Api,
                    meter.ErrorMessage ?? "The upstream failed."), call.RequestId);
            }

            SseWriter.Write(writer, item.EventType, data);
            unflushed += data.Length + item.EventType.Length + SseFramingBytes;
        }

        ValueTask FlushAsync()
        {
            unflushed = 0;
            return StreamRelay.FlushAsync(response, aborted);
        }

        // The first event if it was still pending when the response was committed, else the next one.
        ValueTask<bool> NextEvent()
        {
            if (pendingFirst is { } pending)
            {
                pendingFirst = null;
                return new ValueTask<bool>(pending);
            }

            return events.MoveNextAsync();
        }

        async ValueTask WriteErrorAsync(ApiError error)
        {
            SseWriter.Write(writer, EventNames.Error, ErrorEnvelope.Claude(error, call.RequestId));
            await writer.FlushAsync(aborted);
        }

        async ValueTask TryWriteErrorAsync(ApiError error)
        {
            try
            {
                await WriteErrorAsync(error);
            }
            catch (Exception exception) when (exception is IOException or OperationCanceledException)
            {
                state = UsageStates.Cancelled;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Call {RequestId}: upstream {Upstream} failed mid-stream")]
        public static partial void UpstreamFailedMidStream(ILogger logger, string requestId, string? upstream, Exception exception);
    }
}
