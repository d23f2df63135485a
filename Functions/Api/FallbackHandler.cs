using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Api;

/// <summary>
/// Every path no other endpoint serves (docs/wire-contract.md#13-unknown-paths-and-the-root): <c>GET /</c> and <c>HEAD /</c> answer 200 without a key
/// (Claude Code probes <c>HEAD /</c> before its first call); anything else is a Claude-shaped 404.
/// </summary>
public sealed class FallbackHandler(TimeProvider time)
{
    public IResult Handle(HttpContext context)
    {
        GatewayContext.Of(context, time);
        var request = context.Request;
        var isRoot = !request.Path.HasValue || request.Path.Value == "/";
        if (isRoot && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)))
        {
            return Results.Json(new ServiceStatus("Qhaigc Functions", "ok"), GatewayJsonContext.Default.ServiceStatus);
        }

        return new ErrorResult(ApiError.From(ApiErrorKind.NotFound, "Not found"));
    }
}
