using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Admin;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Api;

/// <summary><c>POST /manage/keys/{id}/rotate</c>: a new secret for a key, the old ones valid for a grace period.</summary>
public sealed class KeyRotateFunction(AdminHandler handler)
{
    [Function("KeyRotate")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = GatewayRoutes.KeyRotate)] HttpRequest request, string id) =>
        handler.HandleRotateAsync(request.HttpContext, id);
}
