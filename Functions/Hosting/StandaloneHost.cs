using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Qhaigc.Functions.Admin.Files;
using Qhaigc.Functions.Admin.Keys;
using Qhaigc.Functions.Admin.Statements;
using Qhaigc.Functions.Admin.Upstreams;
using Qhaigc.Functions.Admin.Usage;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Batches;
using Qhaigc.Functions.Customer;
using Qhaigc.Functions.Files;
using Qhaigc.Functions.Telemetry;
using Qhaigc.Functions.WebConsole;

namespace Qhaigc.Functions.Hosting;

/// <summary>The standalone mode: the same services and handlers on Kestrel, without the Functions host.</summary>
public static class StandaloneHost
{
    /// <summary>The port <c>func start</c> uses, so URLs are the same in both modes.</summary>
    public const string DefaultUrl = "http://localhost:7071";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Settings files are read once: watching them for changes costs a file watcher and its thread at every start,
        // and an instance is replaced, not edited (the command line may still turn it on).
        var builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
        // Defaults that any setting overrides (so first in line): the framework's per-request logs (Kestrel, routing,
        // HttpClient at Information, eight lines a call) cost more CPU than the gateway's own work; host.json keeps
        // them off in the Functions mode too. Warnings and errors still show.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                // Off, not Warning: while this logger is on at any level, hosting starts an Activity and a log scope
                // for every request (2 KB), and HttpClient sends the Activity upstream as a traceparent header. It only
                // logs request starts and ends; a tracing listener (OpenTelemetry) still gets its activities.
                ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "None",
                ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Warning",
            },
        });
        builder.Configuration.AddLocalSettingsJson(builder.Environment.ContentRootPath);

        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.WebHost.ConfigureKestrel(static kestrel =>
        {
            kestrel.AddServerHeader = false;
            // The client's Connection header as sent, not only the token Kestrel keeps (docs/wire-contract.md#33-other-client-headers).
            kestrel.RequestHeaderEncodingSelector = ConnectionHeaderCapture.KestrelServerOptionsSelector;
            // The gateway enforces its own limit (413 request_too_large in Claude's shape) per endpoint.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MinResponseDataRate = null;
            kestrel.Limits.Http2.KeepAlivePingDelay = TimeSpan.FromSeconds(30);
        });
        // Before AddGateway, so settings and services a caller adds (tests, benchmarks) are the ones composed.
        configure?.Invoke(builder);
        builder.Services.AddGateway(builder.Configuration);
        builder.Services.AddGatewayTelemetry(builder.Configuration, functionsWorker: false);
        // The Functions mode settles batches with its timer function; here a hosted service does, on the same schedule.
        builder.Services.AddHostedService<BatchSettlementLoop>();

        var app = builder.Build();
        // The overhead header's clock starts as Kestrel hands the request over, before routing (docs/performance.md).
        var time = app.Services.GetRequiredService<TimeProvider>();
        app.Use((context, next) =>
        {
            GatewayContext.Arrive(context, time);
            ConnectionHeaderCapture.Restore(context.Request);
            return HotRoutes.Dispatch(context) ?? next(context);
        });
        app.UseRouting();
        app.MapGateway();
        return app;
    }

    /// <summary>
    /// Maps the same handlers the function classes call, on the same routes and methods. Each route is a plain
    /// <see cref="RequestDelegate"/>: a lambda with parameters to bind would have ASP.NET Core compile a binder for every
    /// route when the first request arrives, the largest single cost of a cold start (docs/performance.md#cold-start).
    /// </summary>
    public static IEndpointRouteBuilder MapGateway(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/" + GatewayRoutes.Messages, HotRoutes.Messages);
        endpoints.MapPost("/" + GatewayRoutes.CountTokens, HotRoutes.CountTokens);
        endpoints.MapPost("/" + GatewayRoutes.ChatCompletions, HotRoutes.ChatCompletions);
        endpoints.MapMethods("/" + GatewayRoutes.MessageBatches, ["GET", "POST"],
            static context => Run(context, Handler<MessageBatchesHandler>(context).HandleBatchesAsync(context)));
        endpoints.MapGet("/" + GatewayRoutes.MessageBatch,
            static context => Id(context) is { } id ? Run(context, Handler<MessageBatchesHandler>(context).HandleRetrieveAsync(context, id)) : NoId(context));
        endpoints.MapDelete("/" + GatewayRoutes.MessageBatch,
            static context => Id(context) is { } id ? Run(context, Handler<MessageBatchesHandler>(context).HandleDeleteAsync(context, id)) : NoId(context));
        endpoints.MapPost("/" + GatewayRoutes.MessageBatchCancel,
            static context => Id(context) is { } id ? Run(context, Handler<MessageBatchesHandler>(context).HandleCancelAsync(context, id)) : NoId(context));
        endpoints.MapGet("/" + GatewayRoutes.MessageBatchResults,
            static context => Id(context) is { } id ? Run(context, Handler<MessageBatchesHandler>(context).HandleResultsAsync(context, id)) : NoId(context));
        endpoints.MapGet("/" + GatewayRoutes.Models, static context => Run(context, Handler<ModelsHandler>(context).HandleListAsync(context)));
        endpoints.MapGet("/" + GatewayRoutes.Model, static context => Id(context) is { } id ? Run(context, Handler<ModelsHandler>(context).HandleGetAsync(context, id)) : NoId(context));
        endpoints.MapPost("/" + GatewayRoutes.Files, static context => Run(context, Handler<FilesHandler>(context).HandleUploadAsync(context)));
        endpoints.MapGet("/" + GatewayRoutes.Files, static context => Run(context, Handler<FilesHandler>(context).HandleListAsync(context)));
        endpoints.MapGet("/" + GatewayRoutes.File,
            static context => Id(context) is { } id ? Run(context, Handler<FilesHandler>(context).HandleRetrieveAsync(context, id)) : NoId(context));
        endpoints.MapDelete("/" + GatewayRoutes.File,
            static context => Id(context) is { } id ? Run(context, Handler<FilesHandler>(context).HandleDeleteAsync(context, id)) : NoId(context));
        endpoints.MapGet("/" + GatewayRoutes.FileContent,
            static context => Id(context) is { } id ? Run(context, Handler<FilesHandler>(context).HandleDownloadAsync(context, id)) : NoId(context));

        // Admin routes take every method; each answers those it does not serve with 405 and Allow.
        endpoints.MapMethods("/" + GatewayRoutes.Keys, GatewayRoutes.AnyMethod,
            static context => Run(context, Handler<KeysEndpoint>(context).HandleKeysAsync(context)));
        endpoints.MapMethods("/" + GatewayRoutes.Key, GatewayRoutes.AnyMethod,
            static context => Id(context) is { } id ? Run(context, Handler<KeysEndpoint>(context).HandleKeyAsync(context, id)) : NoId(context));
        endpoints.MapMethods("/" + GatewayRoutes.KeyRotate, GatewayRoutes.AnyMethod,
            static context => Id(context) is { } id ? Run(context, Handler<KeysEndpoint>(context).HandleRotateAsync(context, id)) : NoId(context));
        endpoints.MapMethods("/" + GatewayRoutes.KeyStatement, GatewayRoutes.AnyMethod,
            static context => Id(context) is { } id ? Run(context, Handler<StatementsEndpoint>(context).HandleStatementAsync(context, id)) : NoId(context));
        endpoints.MapMethods("/" + GatewayRoutes.KeyFiles, GatewayRoutes.AnyMethod,
            static context => Id(context) is { } id ? Run(context, Handler<KeyFilesEndpoint>(context).HandleFilesAsync(context, id)) : NoId(context));
        endpoints.MapMethods("/" + GatewayRoutes.KeyFile, GatewayRoutes.AnyMethod,
            static context => Id(context) is { } id && Value(context, "fileId") is { } fileId
                ? Run(context, Handler<KeyFilesEndpoint>(context).HandleFileAsync(context, id, fileId))
                : NoId(context));
        endpoints.MapMethods("/" + GatewayRoutes.Usage, GatewayRoutes.AnyMethod,
            static context => Run(context, Handler<UsageEndpoint>(context).HandleUsageAsync(context)));
        endpoints.MapMethods("/" + GatewayRoutes.Upstreams, GatewayRoutes.AnyMethod,
            static context => Run(context, Handler<UpstreamsEndpoint>(context).HandleUpstreamsAsync(context)));
        endpoints.MapMethods("/" + GatewayRoutes.UsageDaily, GatewayRoutes.AnyMethod,
            static context => Run(context, Handler<DailyUsageEndpoint>(context).HandleAsync(context)));

        // The key holder's own view (docs/console.md#the-customer-endpoint), and the console's files.
        endpoints.MapGet("/" + GatewayRoutes.GatewayKey, static context => Run(context, Handler<CustomerEndpoint>(context).HandleKeyAsync(context)));
        endpoints.MapGet("/" + GatewayRoutes.GatewayKeyDaily, static context => Run(context, Handler<CustomerEndpoint>(context).HandleDailyAsync(context)));
        endpoints.MapGet("/" + GatewayRoutes.GatewayKeyStatement,
            static context => Run(context, Handler<CustomerEndpoint>(context).HandleStatementAsync(context)));
        endpoints.MapMethods("/" + GatewayRoutes.Console, ["GET", "HEAD"],
            static context => Handler<ConsoleHandler>(context).Handle(context, Value(context, "path")).ExecuteAsync(context));

        endpoints.MapMethods("/" + GatewayRoutes.Fallback, GatewayRoutes.AnyMethod,
            static context => Handler<FallbackHandler>(context).Handle(context).ExecuteAsync(context));
        return endpoints;
    }

    internal static T Handler<T>(HttpContext context)
        where T : notnull => context.RequestServices.GetRequiredService<T>();

    internal static async Task Run(HttpContext context, Task<IResult> result) => await (await result).ExecuteAsync(context);

    /// <summary>The route's <c>{id}</c>; without one, <see cref="NoId"/> answers as a bound parameter that is missing does.</summary>
    private static string? Id(HttpContext context) => Value(context, "id");

    private static string? Value(HttpContext context, string name) => context.Request.RouteValues[name]?.ToString();

    private static Task NoId(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return Task.CompletedTask;
    }
}
