using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Api;

/// <summary>Every other path in the Functions mode: <c>GET|HEAD /</c> answers 200, anything else a Claude-shaped 404.</summary>
public sealed class FallbackFunction(FallbackHandler handler)
{
    [Function("Fallback")]
    public IResult Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "post", "put", "patch", "delete", "options", Route = GatewayRoutes.Fallback)] HttpRequest request) =>
        handler.Handle(request.HttpContext);
}
