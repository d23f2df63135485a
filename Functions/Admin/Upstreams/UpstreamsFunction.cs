using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Admin.Upstreams;

/// <summary><c>GET /manage/upstreams</c> in the Functions mode (every method, so the handler answers 405 itself).</summary>
public sealed class UpstreamsFunction(UpstreamsEndpoint endpoint)
{
    [Function("Upstreams")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "post", "put", "patch", "delete", "options",
            Route = GatewayRoutes.Upstreams)] HttpRequest request) =>
        endpoint.HandleUpstreamsAsync(request.HttpContext);
}
