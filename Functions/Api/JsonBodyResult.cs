using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>A 200 JSON answer the gateway composed or relayed whole, with optional headers; the usage record after it.</summary>
public sealed class JsonBodyResult(byte[] body, CallRecorder? call = null, TokenUsage? usage = null) : IResult
{
    /// <summary>Extra response headers (for example <c>x-qhaigc-estimated</c>).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        foreach (var (name, value) in Headers)
        {
            response.Headers[name] = value;
        }

        try
        {
            if (!HttpMethods.IsHead(httpContext.Request.Method))
            {
                await response.Body.WriteAsync(body, httpContext.RequestAborted);
            }

            await response.CompleteAsync();
            call?.MarkFirstByte();
            call?.Finish(200, UsageState.Complete, usage: usage);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            call?.Finish(200, UsageState.Cancelled, usage: usage);
        }
    }
}
