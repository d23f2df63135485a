using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Batches;

/// <summary><c>POST /v1/messages/batches/{id}/cancel</c> in the Functions mode.</summary>
public sealed class MessageBatchCancelFunction(MessageBatchesHandler handler)
{
    [Function("MessageBatchCancel")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = GatewayRoutes.MessageBatchCancel)] HttpRequest request, string id) =>
        handler.HandleCancelAsync(request.HttpContext, id);
}
