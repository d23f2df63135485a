using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Admin.Statements;

/// <summary><c>GET /manage/keys/{id}/statement</c>: calls, tokens and cost per day and model, as JSON or CSV.</summary>
public sealed class KeyStatementFunction(StatementsEndpoint endpoint)
{
    [Function("KeyStatement")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "post", "put", "patch", "delete", "options",
            Route = GatewayRoutes.KeyStatement)] HttpRequest request, string id) =>
        endpoint.HandleStatementAsync(request.HttpContext, id);
}
