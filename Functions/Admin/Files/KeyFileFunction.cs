using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Admin.Files;

/// <summary><c>GET|DELETE /manage/keys/{id}/files/{fileId}</c>: one of a key's files, for the operator.</summary>
public sealed class KeyFileFunction(KeyFilesEndpoint endpoint)
{
    [Function("KeyFile")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "post", "put", "patch", "delete", "options",
            Route = GatewayRoutes.KeyFile)] HttpRequest request, string id, string fileId) =>
        endpoint.HandleFileAsync(request.HttpContext, id, fileId);
}
