using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Admin.Keys;

/// <summary><c>GET|PATCH|DELETE /manage/keys/{id}</c> in the Functions mode; every other method is a 405 (the trigger takes them all).</summary>
public sealed class KeyFunction(KeysEndpoint endpoint)
{
    [Function("Key")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "post", "put", "patch", "delete", "options",
            Route = GatewayRoutes.Key)] HttpRequest request, string id) =>
        endpoint.HandleKeyAsync(request.HttpContext, id);
}
