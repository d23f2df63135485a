using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>A whole (non-streaming) Claude message from the upstream, relayed as it came; usage recorded afterwards.</summary>
public sealed class MessageResult(byte[] body, string? modelToRestore, CallRecorder call) : IResult
{
    /// <summary>The usage in the body is the gateway's estimate (a translated upstream reported none).</summary>
    public bool UsageEstimated { get; init; }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var meter = new UsageMeter();
        meter.ObserveMessage(body);
        meter.Usage.Estimated |= UsageEstimated;
        var payload = modelToRestore is null ? body : JsonRewriter.WithMessageModel(body, modelToRestore);

        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.ContentLength = payload.Length;
        try
        {
            await response.Body.WriteAsync(payload, httpContext.RequestAborted);
            await response.CompleteAsync();
            call.MarkFirstByte();
            call.Finish(200, UsageStates.Complete, usage: meter.Usage);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            // The client left while the answer was being written; the upstream's usage still counts.
            call.Finish(200, UsageStates.Cancelled, usage: meter.Usage);
        }
    }
}
