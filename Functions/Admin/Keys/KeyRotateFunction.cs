using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Admin.Keys;

/// <summary><c>POST /manage/keys/{id}/rotate</c>: a new secret for a key, the old ones valid for a grace period.</summary>
public sealed class KeyRotateFunction(KeysEndpoint endpoint)
{
    [Function("KeyRotate")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "post", "put", "patch", "delete", "options",
            Route = GatewayRoutes.KeyRotate)] HttpRequest request, string id) =>
        endpoint.HandleRotateAsync(request.HttpContext, id);
}
