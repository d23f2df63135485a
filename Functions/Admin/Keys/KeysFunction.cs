using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Admin.Keys;

/// <summary><c>GET|POST /manage/keys</c> in the Functions mode.</summary>
public sealed class KeysFunction(KeysEndpoint endpoint)
{
    [Function("Keys")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = GatewayRoutes.Keys)] HttpRequest request) =>
        endpoint.HandleKeysAsync(request.HttpContext);
}
