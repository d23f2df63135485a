using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Admin.Usage;

/// <summary><c>GET /manage/usage/daily</c> in the Functions mode; every other method is a 405 (the trigger takes them all).</summary>
public sealed class DailyUsageFunction(DailyUsageEndpoint endpoint)
{
    [Function("UsageDaily")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "post", "put", "patch", "delete", "options",
            Route = GatewayRoutes.UsageDaily)] HttpRequest request) =>
        endpoint.HandleAsync(request.HttpContext);
}
