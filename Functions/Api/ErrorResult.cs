using System.Globalization;
using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Api;

/// <summary>The wire shape an endpoint answers errors in.</summary>
public enum ErrorFormat
{
    Claude,
    OpenAi,
}

/// <summary>An error answer: status, <c>x-should-retry</c>, <c>retry-after</c> and the envelope of the endpoint's format.</summary>
public sealed class ErrorResult(ApiError error, ErrorFormat format = ErrorFormat.Claude) : IResult
{
    public ApiError Error { get; } = error;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        var requestId = GatewayContext.RequestIdOf(httpContext);
        ApplyHeaders(response, Error);
        var body = format == ErrorFormat.OpenAi ? ErrorEnvelope.OpenAi(Error) : ErrorEnvelope.Claude(Error, requestId);
        response.StatusCode = Error.Status;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        return HttpMethods.IsHead(httpContext.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body).AsTask();
    }

    public static void ApplyHeaders(HttpResponse response, ApiError error)
    {
        response.Headers[HeaderNames.ShouldRetry] = error.ShouldRetry ? "true" : "false";
        if (error.RetryAfterSeconds is { } seconds && seconds >= 0)
        {
            response.Headers[HeaderNames.RetryAfter] = Math.Ceiling(seconds).ToString(CultureInfo.InvariantCulture);
            response.Headers[HeaderNames.RetryAfterMs] = Math.Ceiling(seconds * 1000).ToString(CultureInfo.InvariantCulture);
        }
    }
}
