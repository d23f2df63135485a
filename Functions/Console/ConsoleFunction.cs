using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.WebConsole;

/// <summary>The console's files in the Functions mode (docs/console.md); other methods go to the fallback's 404.</summary>
public sealed class ConsoleFunction(ConsoleHandler handler)
{
    [Function("Console")]
    public IResult Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = GatewayRoutes.Console)] HttpRequest request, string? path) =>
        handler.Handle(request.HttpContext, path);
}
