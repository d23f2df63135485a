using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>
/// What the Claude and the OpenAI-format stream relays (<see cref="StreamResult"/>, <see cref="ChatCompletionStreamResult"/>)
/// do alike once events flow: flushing, naming a mid-stream failure, and ending the call.
/// </summary>
public static class StreamRelay
{
    /// <summary>Written but not yet flushed, after which a relay flushes even while events keep arriving at once.</summary>
    public const int MaxUnflushedBytes = 16 * 1024;

    /// <summary>
    /// The error event for an upstream that failed after the answer started: a protocol violation (an event that is
    /// not what the protocol promises), silence past the idle timeout, or a lost connection.
    /// </summary>
    public static ApiError MidStreamError(Exception exception) => exception switch
    {
        UpstreamProtocolException => ApiError.From(ApiErrorKind.Internal, exception.Message),
        OperationCanceledException => new ApiError(504, ErrorTypes.Timeout, "The upstream stopped sending before the message was complete."),
        _ => ApiError.From(ApiErrorKind.Overloaded, "The upstream connection was lost before the message was complete."),
    };

    /// <summary>
    /// Flushes what the relay wrote; a pipe the client's side has completed means the client left, even if the
    /// request's abort has not been signalled yet.
    /// </summary>
    public static async ValueTask FlushAsync(HttpResponse response, CancellationToken aborted)
    {
        var flushed = await response.BodyWriter.FlushAsync(aborted);
        if (flushed.IsCanceled || flushed.IsCompleted)
        {
            throw new ClientLeftException("The client left while the answer was being written.");
        }
    }

    /// <summary>
    /// Ends a relayed stream: closes the upstream response (which cancels the upstream call if it still runs),
    /// completes the client's response unless the client left, and records the call's usage, estimated where the
    /// stream ended before its final count.
    /// </summary>
    public static async Task FinishAsync(
        HttpResponse response, UpstreamResponse upstream, Task<bool>? abandonedRead, UsageMeter meter, CallRecorder call, string state, string? errorType)
    {
        try
        {
            await upstream.DisposeAsync();
            // A read abandoned when the client left faults once the upstream is closed; observe it so nothing goes unobserved.
            abandonedRead?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            if (state != UsageStates.Cancelled)
            {
                await response.CompleteAsync();
            }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException)
        {
            state = UsageStates.Cancelled;
        }
        finally
        {
            meter.Usage.Estimated |= upstream.UsageEstimated;
            if (state != UsageStates.Complete)
            {
                meter.EstimateIfIncomplete();
            }

            call.Finish(200, state, errorType, meter.Usage);
        }
    }
}
