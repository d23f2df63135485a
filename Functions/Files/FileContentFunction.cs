using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Files;

/// <summary>Functions-mode entry point of <c>GET /v1/files/{id}/content</c>: the file's bytes, streamed.</summary>
public sealed class FileContentFunction(FilesHandler handler)
{
    [Function("FileContent")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = GatewayRoutes.FileContent)] HttpRequest request, string id) =>
        handler.HandleDownloadAsync(request.HttpContext, id);
}
