using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Admin.Keys;

/// <summary><c>GET|PATCH|DELETE /manage/keys/{id}</c> in the Functions mode.</summary>
public sealed class KeyFunction(KeysEndpoint endpoint)
{
    [Function("Key")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "patch", "delete", Route = GatewayRoutes.Key)] HttpRequest request, string id) =>
        endpoint.HandleKeyAsync(request.HttpContext, id);
}
