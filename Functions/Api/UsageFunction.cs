using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Admin;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Api;

/// <summary><c>GET /manage/usage</c> in the Functions mode.</summary>
public sealed class UsageFunction(AdminHandler handler)
{
    [Function("Usage")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = GatewayRoutes.Usage)] HttpRequest request) =>
        handler.HandleUsageAsync(request.HttpContext);
}
