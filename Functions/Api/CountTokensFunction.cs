using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Api;

/// <summary>Functions-mode entry point of <c>POST /v1/messages/count_tokens</c>.</summary>
public sealed class CountTokensFunction(CountTokensHandler handler)
{
    [Function("CountTokens")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = GatewayRoutes.CountTokens)] HttpRequest request) =>
        handler.HandleAsync(request.HttpContext);
}
