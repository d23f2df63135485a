using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.WebConsole;

/// <summary>
/// <c>GET|HEAD /console/{*path}</c> in both hosting modes (docs/console.md): the console's embedded files, <c>/console</c>
/// and <c>/console/</c> being <c>index.html</c>, with their content type, an entity tag (a matching
/// <c>If-None-Match</c> is a <c>304</c>) and <c>Cache-Control: no-cache</c>. Every answer, a <c>404</c> included, carries
/// a strict Content-Security-Policy (no inline script or style, nothing from another origin, no framing),
/// <c>X-Content-Type-Options: nosniff</c> and <c>Referrer-Policy: no-referrer</c>.
/// </summary>
public sealed class ConsoleHandler(ConsoleAssets assets, TimeProvider time)
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public IResult Handle(HttpContext context, string? path)
    {
        GatewayContext.Of(context, time);
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XFrameOptions = "DENY";

        if (assets.Find(path) is not { } asset)
        {
            headers.CacheControl = "no-store";
            return new ErrorResult(ApiError.From(ApiErrorKind.NotFound, "Not found"));
        }

        headers.CacheControl = asset.CacheControl;
        // Conditional requests (If-None-Match → 304) and HEAD are the framework's.
        return Results.Bytes(asset.Content, asset.ContentType, entityTag: asset.ETag);
    }
}
