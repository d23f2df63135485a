using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Files;

/// <summary>Functions-mode entry point of <c>GET /v1/files/{id}</c> (a file's metadata) and <c>DELETE /v1/files/{id}</c>.</summary>
public sealed class FileFunction(FilesHandler handler)
{
    [Function("File")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", "delete", Route = GatewayRoutes.File)] HttpRequest request, string id) =>
        HttpMethods.IsDelete(request.Method) ? handler.HandleDeleteAsync(request.HttpContext, id) : handler.HandleRetrieveAsync(request.HttpContext, id);
}
