using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Telemetry;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>
/// A whole (non-streaming) Claude message from the upstream, written in the client's <see cref="AnswerFormat"/>; the
/// usage record counts the Claude usage the upstream reported and is written after the answer.
/// </summary>
public sealed class MessageResult(byte[] claudeMessage, AnswerFormat format, CallRecorder call, bool usageEstimated) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        GatewayTelemetry.Resume(call.Span);
        var meter = new UsageMeter();
        meter.ObserveMessage(claudeMessage);
        meter.Usage.Estimated |= usageEstimated;
        if (format.Message(claudeMessage) is not { } payload)
        {
            var error = ApiError.From(ApiErrorKind.Internal, "The upstream answered with a body that is not a message.");
            call.Finish(error.Status, UsageState.Failed, error.Type, meter.Usage);
            await new ErrorResult(error, format.Errors).ExecuteAsync(httpContext);
            return;
        }

        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.ContentLength = payload.Length;
        try
        {
            await response.Body.WriteAsync(payload, httpContext.RequestAborted);
            await response.CompleteAsync();
            call.MarkFirstByte();
            call.Finish(200, UsageState.Complete, usage: meter.Usage);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            // The client left while the answer was being written; the upstream's usage still counts.
            call.Finish(200, UsageState.Cancelled, usage: meter.Usage);
        }
    }
}
