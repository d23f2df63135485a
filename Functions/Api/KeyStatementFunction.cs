using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Admin;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Api;

/// <summary><c>GET /manage/keys/{id}/statement</c>: calls, tokens and cost per day and model, as JSON or CSV.</summary>
public sealed class KeyStatementFunction(AdminHandler handler)
{
    [Function("KeyStatement")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = GatewayRoutes.KeyStatement)] HttpRequest request, string id) =>
        handler.HandleStatementAsync(request.HttpContext, id);
}
