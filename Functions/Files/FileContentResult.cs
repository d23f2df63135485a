using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Files;

/// <summary>
/// A download relayed as it arrives from the upstream, in 64 KB reads, never held whole; the usage record holds the
/// bytes the client received, and is <c>cancelled</c> when the client left before the end (docs/files.md#endpoints).
/// </summary>
public sealed class FileContentResult(UpstreamFileAnswer answer, CallRecorder call) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        using var owned = answer;
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = answer.ContentType ?? "application/octet-stream";
        response.ContentLength = answer.ContentLength;
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var content = new MeteredStream(answer.Content!);
        try
        {
            await content.CopyToAsync(response.Body, 64 * 1024, httpContext.RequestAborted);
            await response.CompleteAsync();
            call.MarkFirstByte();
            call.Bytes = content.BytesRead;
            call.Finish(200, UsageState.Complete);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            call.Bytes = content.BytesRead;
            call.Finish(httpContext.RequestAborted.IsCancellationRequested ? 499 : 200, httpContext.RequestAborted.IsCancellationRequested ? UsageState.Cancelled : UsageState.Truncated);
            if (!httpContext.RequestAborted.IsCancellationRequested)
            {
                // The upstream broke off: the client must not take a cut file for a whole one.
                httpContext.Abort();
            }
        }
    }
}
