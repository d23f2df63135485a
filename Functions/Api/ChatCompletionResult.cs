using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Translation;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>
/// A whole Claude message translated into an OpenAI <c>chat.completion</c> (spec §6.9); the usage record counts the
/// Claude usage the upstream reported, exactly as <c>/v1/messages</c> does.
/// </summary>
public sealed class ChatCompletionResult(byte[] claudeMessage, string model, CallRecorder call, TimeProvider time) : IResult
{
    public bool UsageEstimated { get; init; }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var meter = new UsageMeter();
        meter.ObserveMessage(claudeMessage);
        meter.Usage.Estimated |= UsageEstimated;
        var payload = ClaudeMessageToChat.Translate(claudeMessage, ChatCompletionIds.New(), time.GetUtcNow().ToUnixTimeSeconds(), model);
        if (payload is null)
        {
            var error = ApiError.From(ApiErrorKind.Internal, "The upstream answered with a body that is not a message.");
            call.Finish(error.Status, UsageStates.Failed, error.Type, meter.Usage);
            await new ErrorResult(error, ErrorFormat.OpenAi).ExecuteAsync(httpContext);
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
            call.Finish(200, UsageStates.Complete, usage: meter.Usage);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            call.Finish(200, UsageStates.Cancelled, usage: meter.Usage);
        }
    }
}
