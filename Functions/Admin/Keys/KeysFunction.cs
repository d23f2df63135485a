using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Admin.Keys;

/// <summary><c>GET|POST /manage/keys</c> in the Functions mode; every other method is a 405 (the trigger takes them all).</summary>
public sealed class KeysFunction(KeysEndpoint endpoint)
{
    [Function("Keys")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "post", "put", "patch", "delete", "options",
            Route = GatewayRoutes.Keys)] HttpRequest request) =>
        endpoint.HandleKeysAsync(request.HttpContext);
}
