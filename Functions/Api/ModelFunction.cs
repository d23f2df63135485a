using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Api;

/// <summary>Functions-mode entry point of <c>GET /v1/models/{id}</c>.</summary>
public sealed class ModelFunction(ModelsHandler handler)
{
    [Function("Model")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = GatewayRoutes.Model)] HttpRequest request, string id) =>
        handler.HandleGetAsync(request.HttpContext, id);
}
