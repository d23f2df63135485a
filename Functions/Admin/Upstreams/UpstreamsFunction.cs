using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Admin.Upstreams;

/// <summary><c>GET /manage/upstreams</c> in the Functions mode.</summary>
public sealed class UpstreamsFunction(UpstreamsEndpoint endpoint)
{
    [Function("Upstreams")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = GatewayRoutes.Upstreams)] HttpRequest request) =>
        endpoint.HandleUpstreamsAsync(request.HttpContext);
}
