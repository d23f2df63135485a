using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Qhaigc.Functions.Api;

namespace Qhaigc.Functions.Hosting;

/// <summary>
/// The standalone mode's model calls, dispatched before endpoint routing: <c>POST</c> to <c>/v1/messages</c>,
/// <c>/v1/messages/count_tokens</c> or <c>/v1/chat/completions</c>, the path as routing matches it (any case, one
/// trailing slash), reaches the same endpoint routing would choose, and is marked with it (telemetry reads the route from
/// it). Everything else goes through routing as before, which the gateway's table keeps whole. A new instance whose
/// first call is a model call then answers it without building the route matcher (and the code its many literal routes
/// have ASP.NET Core generate), and every model call skips matching (docs/performance.md#cold-start).
/// </summary>
internal static class HotRoutes
{
    public static readonly RequestDelegate Messages =
        static context => StandaloneHost.Run(context, StandaloneHost.Handler<MessagesHandler>(context).HandleAsync(context));

    public static readonly RequestDelegate CountTokens =
        static context => StandaloneHost.Run(context, StandaloneHost.Handler<CountTokensHandler>(context).HandleAsync(context));

    public static readonly RequestDelegate ChatCompletions =
        static context => StandaloneHost.Run(context, StandaloneHost.Handler<ChatCompletionsHandler>(context).HandleAsync(context));

    private static readonly Route MessagesRoute = new(GatewayRoutes.Messages, Messages);
    private static readonly Route CountTokensRoute = new(GatewayRoutes.CountTokens, CountTokens);
    private static readonly Route ChatCompletionsRoute = new(GatewayRoutes.ChatCompletions, ChatCompletions);

    /// <summary>The call's answer when it is one of the model calls; null to leave it to routing.</summary>
    public static Task? Dispatch(HttpContext context)
    {
        if (Match(context.Request.Method, context.Request.Path.Value) is not { } endpoint)
        {
            return null;
        }

        context.SetEndpoint(endpoint);
        return endpoint.RequestDelegate!(context);
    }

    /// <summary>The endpoint of a model call with this method and path; null for anything else.</summary>
    public static RouteEndpoint? Match(string method, string? path)
    {
        if (!HttpMethods.IsPost(method) || path is null)
        {
            return null;
        }

        return MessagesRoute.Matches(path) ? MessagesRoute.Endpoint
            : CountTokensRoute.Matches(path) ? CountTokensRoute.Endpoint
            : ChatCompletionsRoute.Matches(path) ? ChatCompletionsRoute.Endpoint
            : null;
    }

    private sealed class Route(string template, RequestDelegate handler)
    {
        /// <summary>The same endpoint as <c>MapPost</c> builds for the route, as far as anything here reads it.</summary>
        public RouteEndpoint Endpoint { get; } = new(
            handler,
            RoutePatternFactory.Parse("/" + template),
            order: 0,
            new EndpointMetadataCollection(new HttpMethodMetadata([HttpMethods.Post])),
            "HTTP: POST /" + template);

        private readonly string _path = "/" + template;

        /// <summary>Routing's literal match: ordinal, any case, with or without one trailing slash.</summary>
        public bool Matches(string path) =>
            path.Length == _path.Length ? path.Equals(_path, StringComparison.OrdinalIgnoreCase)
            : path.Length == _path.Length + 1 && path[^1] == '/' && path.AsSpan(0, _path.Length).Equals(_path, StringComparison.OrdinalIgnoreCase);
    }
}
