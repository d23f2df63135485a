using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Batches;

/// <summary><c>GET /v1/messages/batches/{id}/results</c> in the Functions mode: the results as they arrive.</summary>
public sealed class MessageBatchResultsFunction(MessageBatchesHandler handler)
{
    [Function("MessageBatchResults")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = GatewayRoutes.MessageBatchResults)] HttpRequest request, string id) =>
        handler.HandleResultsAsync(request.HttpContext, id);
}
