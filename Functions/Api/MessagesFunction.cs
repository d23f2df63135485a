using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Api;

// A thin trigger: the same handler the standalone endpoint calls (StandaloneHost.MapGateway). Anonymous, because
// the gateway's own key check is the authorization.
/// <summary><c>POST /v1/messages</c> in the Functions mode: the Anthropic Messages API.</summary>
public sealed class MessagesFunction(MessagesHandler handler)
{
    [Function("Messages")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = GatewayRoutes.Messages)] HttpRequest request) =>
        handler.HandleAsync(request.HttpContext);
}
