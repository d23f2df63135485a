using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Protocol.Sse;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>
/// Waits for an upstream stream's first event before anything is committed, so a failure before it is still a plain
/// HTTP error that SDKs retry (spec §4.10); an <c>error</c> as the very first event becomes such an error too. After
/// <see cref="StreamingOptions.FirstEventTimeout"/> the caller commits the 200 and keeps the connection alive.
/// </summary>
public static partial class UpstreamStreamStart
{
    public static async Task<StreamStart> WaitAsync(
        UpstreamResponse upstream, GatewayContext gateway, StreamingOptions streaming, TimeProvider time, CancellationToken aborted)
    {
        var events = upstream.Events!;
        long waitStart = 0;
        try
        {
            var move = events.MoveNextAsync();
            bool hasFirst;
            if (move.IsCompleted)
            {
                // Already in (usually with the headers): reading it was the gateway's own work.
                hasFirst = move.Result;
            }
            else
            {
                waitStart = Stopwatch.GetTimestamp();
                var task = move.AsTask();
                var first = await Task.WhenAny(task, Task.Delay(streaming.FirstEventTimeout, time, aborted));
                if (first != task)
                {
                    aborted.ThrowIfCancellationRequested();
                    return new StreamStart(StreamStartOutcome.Started, Pending: task);
                }

                hasFirst = await task;
            }

            if (!hasFirst)
            {
                return new StreamStart(StreamStartOutcome.Failed,
                    Error: ApiError.From(ApiErrorKind.UpstreamUnavailable, "The upstream closed the stream without an answer."));
            }

            var item = events.Current;
            if (item.EventType == EventNames.Error)
            {
                var meter = new UsageMeter();
                meter.ObserveEvent(EventNames.Error, item.Data);
                var type = meter.ErrorType ?? ErrorTypes.Api;
                return new StreamStart(StreamStartOutcome.Failed,
                    Error: new ApiError(ApiError.StatusForType(type), type, meter.ErrorMessage ?? "The upstream failed."));
            }

            return new StreamStart(StreamStartOutcome.Started, FirstEvent: item);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return new StreamStart(StreamStartOutcome.Cancelled);
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException or OperationCanceledException)
        {
            return new StreamStart(StreamStartOutcome.Failed,
                Error: ApiError.From(ApiErrorKind.UpstreamUnavailable, "The upstream connection failed before the answer started."),
                Failure: exception);
        }
        finally
        {
            if (waitStart != 0)
            {
                gateway.AddWait(waitStart);
            }
        }
    }

    /// <summary>
    /// Ends a call whose stream did not start: a cancelled one as the client's doing (null), a failed one with the
    /// error to refuse it with, in the caller's error format.
    /// </summary>
    public static async Task<ApiError?> EndUnstartedAsync(StreamStart start, UpstreamResponse upstream, CallRecorder call, ILogger logger)
    {
        await upstream.DisposeAsync();
        if (start.Outcome == StreamStartOutcome.Cancelled)
        {
            call.Finish(499, UsageStates.Cancelled);
            return null;
        }

        if (start.Failure is not null)
        {
            Log.UpstreamFailedBeforeFirstEvent(logger, call.RequestId, call.Upstream, start.Failure);
        }

        return start.Error!;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Call {RequestId}: upstream {Upstream} failed before its first event")]
        public static partial void UpstreamFailedBeforeFirstEvent(ILogger logger, string requestId, string? upstream, Exception exception);
    }
}
