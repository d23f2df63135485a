using System.Net.ServerSentEvents;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Telemetry;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>
/// Relays an upstream event stream to the client in the client's <see cref="AnswerFormat"/>: each event is written as
/// it arrives and flushed as soon as no later one is already here, usage is counted from the Claude events on the way,
/// keep-alives fill silences, an upstream failure becomes one error in the stream, and a client that leaves cancels
/// the upstream call. The usage record is written last. The one relay loop of the gateway (docs/architecture.md).
/// </summary>
public sealed partial class StreamRelay(
    UpstreamStart start,
    AnswerFormat format,
    GatewayContext gateway,
    CallRecorder call,
    StreamingOptions streaming,
    TimeProvider time,
    ILogger logger) : IResult
{
    /// <summary>Written but not yet flushed, after which the relay flushes even while events keep arriving at once.</summary>
    public const int MaxUnflushedBytes = 16 * 1024;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        GatewayTelemetry.Resume(call.Span);
        var response = httpContext.Response;
        var aborted = httpContext.RequestAborted;
        // Events written between two flushes go into the response in one write (docs/performance.md#cpu-per-streamed-event).
        var writer = new GatheringWriter(response.BodyWriter);
        var requestId = call.RequestId;
        var meter = new UsageMeter();
        var upstream = start.Response;
        var later = start.Later;
        var state = UsageState.Complete;
        string? errorType = null;
        var unflushed = 0;

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await using var keepAlive = new KeepAliveWait(writer, format.KeepAlive, streaming.PingInterval, time, gateway.Waits, aborted);

        try
        {
            if (start.FirstEvent is { } first)
            {
                Relay(first);
            }

            // The headers (and the first event, if here) leave at once; with no first event yet, the upstream was
            // silent too long: headers now, keep-alives meanwhile.
            await FlushAsync();
            call.MarkFirstByte();
            // Let the server's sender (queued by that flush) run before the relay goes on with events already here:
            // on a busy machine it would otherwise wait for a whole burst to be relayed before the first byte leaves.
            await Task.Yield();

            if (await StartedAsync() is { } events)
            {
                while (!format.Finished)
                {
                    // Events that arrived together leave together: the relay flushes when the next event is not here
                    // yet (or enough is waiting), so no event ever waits for a later one, and a burst costs one write.
                    var next = events.MoveNextAsync();
                    if (unflushed > 0 && (!next.IsCompleted || unflushed >= MaxUnflushedBytes))
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
                    state = UsageState.Truncated;
                    errorType = meter.ErrorType;
                }
                else if (!meter.SawMessageStop)
                {
                    await EndWithErrorAsync(ApiError.From(ApiErrorKind.Internal, "The upstream ended the stream before the message was complete."));
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            state = UsageState.Cancelled;
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException or OperationCanceledException)
        {
            if (aborted.IsCancellationRequested || exception is ClientLeftException)
            {
                state = UsageState.Cancelled;
            }
            else
            {
                // The upstream reset, stalled past the idle timeout, or sent something unreadable.
                Log.UpstreamFailedMidStream(logger, requestId, call.Upstream, exception);
                await EndWithErrorAsync(MidStreamError(exception));
            }
        }
        finally
        {
            await FinishAsync();
        }

        // The stream's events once its start is decided: at once, unless the response committed while the first
        // event was awaited; null when that start then failed (the error is written) or the client left.
        async ValueTask<IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>>?> StartedAsync()
        {
            if (later is null)
            {
                return upstream!.Events;
            }

            var decided = await keepAlive.NextAsync(new ValueTask<UpstreamStart>(later));
            later = null;
            switch (decided.Outcome)
            {
                case UpstreamStartOutcome.Streaming:
                    upstream = decided.Response;
                    Relay(decided.FirstEvent!.Value);
                    return upstream!.Events;
                case UpstreamStartOutcome.ClientGone:
                    state = UsageState.Cancelled;
                    return null;
                default:
                    await EndWithErrorAsync(decided.Error!);
                    return null;
            }
        }

        void Relay(SseItem<ReadOnlyMemory<byte>> item)
        {
            meter.ObserveEvent(item.EventType, item.Data.Span);
            unflushed += format.WriteEvent(item, writer, requestId);
        }

        ValueTask FlushAsync()
        {
            unflushed = 0;
            return FlushToClientAsync(writer, aborted);
        }

        // Ends a started stream with an error in the client's format; a client already gone makes it a cancelled call.
        async ValueTask EndWithErrorAsync(ApiError error)
        {
            state = UsageState.Truncated;
            errorType = error.Type;
            try
            {
                format.WriteError(writer, error, requestId);
                await writer.FlushAsync(aborted);
            }
            catch (Exception exception) when (exception is IOException or OperationCanceledException)
            {
                state = UsageState.Cancelled;
            }
        }

        // Closes the upstream response (which cancels the upstream call if it still runs), completes the client's
        // response unless the client left, and records the call's usage, estimated where the stream ended early.
        async Task FinishAsync()
        {
            try
            {
                if (later is not null)
                {
                    // The client left before the start was decided: release whatever it brings.
                    _ = later.ContinueWith(static decided => decided.Result.Response?.DisposeAsync().AsTask(),
                        CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
                }

                if (upstream is not null)
                {
                    await upstream.DisposeAsync();
                }

                if (state != UsageState.Cancelled)
                {
                    // The last events (message_stop among them) leave with the response's end.
                    writer.Commit();
                    await response.CompleteAsync();
                }
            }
            catch (Exception exception) when (exception is IOException or OperationCanceledException)
            {
                state = UsageState.Cancelled;
            }
            finally
            {
                writer.Release();
                meter.Usage.Estimated |= upstream?.UsageEstimated ?? false;
                if (state != UsageState.Complete)
                {
                    meter.EstimateIfIncomplete();
                }

                call.Finish(200, state, errorType, meter.Usage);
            }
        }
    }

    /// <summary>
    /// The error for an upstream that failed after the answer started: a protocol violation (an event that is not what
    /// the protocol promises), silence past the idle timeout, or a lost connection.
    /// </summary>
    public static ApiError MidStreamError(Exception exception) => exception switch
    {
        UpstreamProtocolException => ApiError.From(ApiErrorKind.Internal, exception.Message),
        OperationCanceledException => new ApiError(504, ErrorTypes.Timeout, "The upstream stopped sending before the message was complete."),
        _ => ApiError.From(ApiErrorKind.Overloaded, "The upstream connection was lost before the message was complete."),
    };

    /// <summary>
    /// Flushes what was written; a pipe the client's side has completed means the client left, even if the request's
    /// abort has not been signalled yet.
    /// </summary>
    private static async ValueTask FlushToClientAsync(GatheringWriter writer, CancellationToken aborted)
    {
        var flushed = await writer.FlushAsync(aborted);
        if (flushed.IsCanceled || flushed.IsCompleted)
        {
            throw new ClientLeftException("The client left while the answer was being written.");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Call {RequestId}: upstream {Upstream} failed mid-stream")]
        public static partial void UpstreamFailedMidStream(ILogger logger, string requestId, string? upstream, Exception exception);
    }
}
