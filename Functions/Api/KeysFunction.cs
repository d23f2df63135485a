using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Admin;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Api;

/// <summary><c>GET|POST /manage/keys</c> in the Functions mode.</summary>
public sealed class KeysFunction(AdminHandler handler)
{
    [Function("Keys")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = GatewayRoutes.Keys)] HttpRequest request) =>
        handler.HandleKeysAsync(request.HttpContext);
}
