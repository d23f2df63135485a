using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Batches;

/// <summary><c>GET</c> and <c>POST /v1/messages/batches</c> in the Functions mode: the key's batches, or a new one.</summary>
public sealed class MessageBatchesFunction(MessageBatchesHandler handler)
{
    [Function("MessageBatches")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = GatewayRoutes.MessageBatches)] HttpRequest request) =>
        handler.HandleBatchesAsync(request.HttpContext);
}
