using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Api;

/// <summary>Functions-mode entry point of <c>GET /v1/models</c>.</summary>
public sealed class ModelsFunction(ModelsHandler handler)
{
    [Function("Models")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = GatewayRoutes.Models)] HttpRequest request) =>
        handler.HandleListAsync(request.HttpContext);
}
