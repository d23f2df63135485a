using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Api;

/// <summary>Functions-mode entry point of <c>POST /v1/chat/completions</c>.</summary>
public sealed class ChatCompletionsFunction(ChatCompletionsHandler handler)
{
    [Function("ChatCompletions")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = GatewayRoutes.ChatCompletions)] HttpRequest request) =>
        handler.HandleAsync(request.HttpContext);
}
