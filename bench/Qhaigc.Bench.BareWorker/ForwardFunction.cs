using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;

namespace Qhaigc.Bench.BareWorker;

/// <summary>
/// <c>POST /v1/messages</c> forwarded to the upstream named by the <c>Bench__Upstream</c> setting: the body and its
/// content type in, the status, content type and body out, the body copied as it arrives.
/// </summary>
public sealed class ForwardFunction(HttpMessageInvoker client, IConfiguration configuration)
{
    private readonly Uri _messages = new(new Uri(configuration["Bench:Upstream"] ?? throw new InvalidOperationException("Bench:Upstream is not set.")), "v1/messages");

    [Function("Messages")]
    public async Task Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/messages")] HttpRequest request)
    {
        var context = request.HttpContext;
        using var message = new HttpRequestMessage(HttpMethod.Post, _messages) { Content = new StreamContent(request.Body) };
        if (request.ContentType is { } contentType)
        {
            message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        using var response = await client.SendAsync(message, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
        await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        await body.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}
