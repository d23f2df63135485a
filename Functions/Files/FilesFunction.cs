using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Files;

/// <summary>Functions-mode entry point of <c>POST /v1/files</c> (an upload) and <c>GET /v1/files</c> (the key's files).</summary>
public sealed class FilesFunction(FilesHandler handler)
{
    [Function("Files")]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = GatewayRoutes.Files)] HttpRequest request) =>
        HttpMethods.IsPost(request.Method) ? handler.HandleUploadAsync(request.HttpContext) : handler.HandleListAsync(request.HttpContext);
}
