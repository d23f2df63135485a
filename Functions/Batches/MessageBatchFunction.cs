using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Batches;

/// <summary><c>GET</c> and <c>DELETE /v1/messages/batches/{id}</c> in the Functions mode.</summary>
public sealed class MessageBatchFunction(MessageBatchesHandler handler)
{
    [Function("MessageBatch")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", "delete", Route = GatewayRoutes.MessageBatch)] HttpRequest request, string id) =>
        HttpMethods.IsDelete(request.Method) ? handler.HandleDeleteAsync(request.HttpContext, id) : handler.HandleRetrieveAsync(request.HttpContext, id);
}
