using System.Net.ServerSentEvents;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Translation;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>
/// A Claude event stream translated into OpenAI chunks as it arrives (spec §6.11): each upstream event is translated,
/// written and flushed at once, usage is counted from the Claude events on the way, an SSE comment keeps a silent
/// stream alive, and an upstream failure becomes one <c>data: {"error":…}</c> payload before the response closes.
/// </summary>
public sealed partial class ChatCompletionStreamResult(
    UpstreamResponse upstream,
    StreamStart start,
    ClaudeStreamToChat translator,
    GatewayContext gateway,
    CallRecorder call,
    StreamingOptions streaming,
    TimeProvider time,
    ILogger logger) : IResult
{
    /// <summary>An SSE comment: every SSE reader skips it, and it keeps proxies from cutting an idle response.</summary>
    public static ReadOnlySpan<byte> KeepAlive => ": ping\n\n"u8;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        var aborted = httpContext.RequestAborted;
        var writer = response.BodyWriter;
        var meter = new UsageMeter();
        var events = upstream.Events!;
        var pending = start.Pending;
        var state = UsageStates.Complete;
        string? errorType = null;
        var unflushed = 0;

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await using var keepAlive = new KeepAliveWait(writer, KeepAlive, streaming.PingInterval, time, gateway, aborted);

        try
        {
            if (start.FirstEvent is { } first)
            {
                Relay(first);
            }

            // Headers (and the first chunk, if here) at once, then chunks flushed as StreamResult does: when the next
            // event is not here yet, so a burst leaves in one write and nothing waits for a later event.
            await FlushAsync();
            call.MarkFirstByte();
            await Task.Yield();

            while (!translator.Finished)
            {
                var next = NextEvent();
                if (unflushed > 0 && (!next.IsCompleted || unflushed >= StreamRelay.MaxUnflushedBytes))
                {
                    await FlushAsync();
                }

                if (!await keepAlive.NextAsync(next))
                {
                    break;
                }

                Relay(events.Current);
            }

            if (meter.ErrorType is not null)
            {
                state = UsageStates.Truncated;
                errorType = meter.ErrorType;
            }
            else if (!meter.SawMessageStop)
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
                Log.UpstreamFailedMidStream(logger, call.RequestId, call.Upstream, exception);
                state = UsageStates.Truncated;
                var error = StreamRelay.MidStreamError(exception);
                errorType = error.Type;
                try
                {
                    await WriteErrorAsync(error);
                }
                catch (Exception writeException) when (writeException is IOException or OperationCanceledException)
                {
                    state = UsageStates.Cancelled;
                }
            }
        }
        finally
        {
            await StreamRelay.FinishAsync(response, upstream, pending, meter, call, state, errorType);
        }

        void Relay(SseItem<byte[]> item)
        {
            meter.ObserveEvent(item.EventType, item.Data);
            try
            {
                // Straight into the response: a delta chunk is written without an array of its own (issue 5).
                unflushed += translator.WriteEvent(item.EventType, item.Data, writer);
            }
            catch (Exception exception) when (exception is JsonException or InvalidOperationException or ArgumentException)
            {
                // Text the translator cannot carry over (invalid UTF-8, say): the stream ends with an error event, not
                // with a response cut short that a client would take for a network failure.
                throw new UpstreamProtocolException("The upstream sent an event that could not be translated.", exception);
            }
        }

        ValueTask FlushAsync()
        {
            unflushed = 0;
            return StreamRelay.FlushAsync(response, aborted);
        }

        // The first event if it was still pending when the response was committed, else the next one.
        ValueTask<bool> NextEvent()
        {
            if (pending is { } first)
            {
                pending = null;
                return new ValueTask<bool>(first);
            }

            return events.MoveNextAsync();
        }

        async ValueTask WriteErrorAsync(ApiError error)
        {
            ClaudeStreamToChat.WriteDataLine(writer, ClaudeStreamToChat.ErrorPayload(error.Type, error.Message));
            await writer.FlushAsync(aborted);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Call {RequestId}: upstream {Upstream} failed mid-stream")]
        public static partial void UpstreamFailedMidStream(ILogger logger, string requestId, string? upstream, Exception exception);
    }
}
