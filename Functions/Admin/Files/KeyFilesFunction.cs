using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Admin.Files;

/// <summary><c>GET /manage/keys/{id}/files</c>: every file a key owns, for the operator.</summary>
public sealed class KeyFilesFunction(KeyFilesEndpoint endpoint)
{
    [Function("KeyFiles")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "post", "put", "patch", "delete", "options",
            Route = GatewayRoutes.KeyFiles)] HttpRequest request, string id) =>
        endpoint.HandleFilesAsync(request.HttpContext, id);
}
