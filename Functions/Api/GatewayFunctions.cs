using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Admin;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Api;

// The Functions-mode entry points: thin triggers that hand the request to the same handlers the standalone endpoints
// call (StandaloneHost.MapGateway). Anonymous, because the gateway's own key check is the authorization.

public sealed class MessagesFunction(MessagesHandler handler)
{
    [Function("Messages")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = GatewayRoutes.Messages)] HttpRequest request) =>
        handler.HandleAsync(request.HttpContext);
}

public sealed class KeysFunction(AdminHandler handler)
{
    [Function("Keys")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = GatewayRoutes.Keys)] HttpRequest request) =>
        handler.HandleKeysAsync(request.HttpContext);
}

public sealed class KeyFunction(AdminHandler handler)
{
    [Function("Key")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "patch", "delete", Route = GatewayRoutes.Key)] HttpRequest request, string id) =>
        handler.HandleKeyAsync(request.HttpContext, id);
}

public sealed class UsageFunction(AdminHandler handler)
{
    [Function("Usage")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = GatewayRoutes.Usage)] HttpRequest request) =>
        handler.HandleUsageAsync(request.HttpContext);
}

public sealed class FallbackFunction(FallbackHandler handler)
{
    [Function("Fallback")]
    public IResult Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "post", "put", "patch", "delete", "options", Route = GatewayRoutes.Fallback)] HttpRequest request) =>
        handler.Handle(request.HttpContext);
}
