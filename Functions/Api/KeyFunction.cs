using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Admin;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Api;

/// <summary><c>GET|PATCH|DELETE /manage/keys/{id}</c> in the Functions mode.</summary>
public sealed class KeyFunction(AdminHandler handler)
{
    [Function("Key")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "patch", "delete", Route = GatewayRoutes.Key)] HttpRequest request, string id) =>
        handler.HandleKeyAsync(request.HttpContext, id);
}
