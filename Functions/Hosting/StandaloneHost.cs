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
        var builder = WebApplication.CreateSlimBuilder(args);
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
            return next(context);
        });
        app.UseRouting();
        app.MapGateway();
        return app;
    }

    /// <summary>Maps the same handlers the function classes call, on the same routes and methods.</summary>
    public static IEndpointRouteBuilder MapGateway(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/" + GatewayRoutes.Messages,
            static (HttpContext context, MessagesHandler handler) => handler.HandleAsync(context));
        endpoints.MapPost("/" + GatewayRoutes.CountTokens,
            static (HttpContext context, CountTokensHandler handler) => handler.HandleAsync(context));
        endpoints.MapPost("/" + GatewayRoutes.ChatCompletions,
            static (HttpContext context, ChatCompletionsHandler handler) => handler.HandleAsync(context));
        endpoints.MapMethods("/" + GatewayRoutes.MessageBatches, ["GET", "POST"],
            static (HttpContext context, MessageBatchesHandler handler) => handler.HandleBatchesAsync(context));
        endpoints.MapGet("/" + GatewayRoutes.MessageBatch,
            static (HttpContext context, string id, MessageBatchesHandler handler) => handler.HandleRetrieveAsync(context, id));
        endpoints.MapDelete("/" + GatewayRoutes.MessageBatch,
            static (HttpContext context, string id, MessageBatchesHandler handler) => handler.HandleDeleteAsync(context, id));
        endpoints.MapPost("/" + GatewayRoutes.MessageBatchCancel,
            static (HttpContext context, string id, MessageBatchesHandler handler) => handler.HandleCancelAsync(context, id));
        endpoints.MapGet("/" + GatewayRoutes.MessageBatchResults,
            static (HttpContext context, string id, MessageBatchesHandler handler) => handler.HandleResultsAsync(context, id));
        endpoints.MapGet("/" + GatewayRoutes.Models,
            static (HttpContext context, ModelsHandler handler) => handler.HandleListAsync(context));
        endpoints.MapGet("/" + GatewayRoutes.Model,
            static (HttpContext context, string id, ModelsHandler handler) => handler.HandleGetAsync(context, id));
        endpoints.MapPost("/" + GatewayRoutes.Files,
            static (HttpContext context, FilesHandler handler) => handler.HandleUploadAsync(context));
        endpoints.MapGet("/" + GatewayRoutes.Files,
            static (HttpContext context, FilesHandler handler) => handler.HandleListAsync(context));
        endpoints.MapGet("/" + GatewayRoutes.File,
            static (HttpContext context, string id, FilesHandler handler) => handler.HandleRetrieveAsync(context, id));
        endpoints.MapDelete("/" + GatewayRoutes.File,
            static (HttpContext context, string id, FilesHandler handler) => handler.HandleDeleteAsync(context, id));
        endpoints.MapGet("/" + GatewayRoutes.FileContent,
            static (HttpContext context, string id, FilesHandler handler) => handler.HandleDownloadAsync(context, id));

        // Admin routes take every method; each answers those it does not serve with 405 and Allow.
        endpoints.MapMethods("/" + GatewayRoutes.Keys, GatewayRoutes.AnyMethod,
            static (HttpContext context, KeysEndpoint endpoint) => endpoint.HandleKeysAsync(context));
        endpoints.MapMethods("/" + GatewayRoutes.Key, GatewayRoutes.AnyMethod,
            static (HttpContext context, string id, KeysEndpoint endpoint) => endpoint.HandleKeyAsync(context, id));
        endpoints.MapMethods("/" + GatewayRoutes.KeyRotate, GatewayRoutes.AnyMethod,
            static (HttpContext context, string id, KeysEndpoint endpoint) => endpoint.HandleRotateAsync(context, id));
        endpoints.MapMethods("/" + GatewayRoutes.KeyStatement, GatewayRoutes.AnyMethod,
            static (HttpContext context, string id, StatementsEndpoint endpoint) => endpoint.HandleStatementAsync(context, id));
        endpoints.MapMethods("/" + GatewayRoutes.KeyFiles, GatewayRoutes.AnyMethod,
            static (HttpContext context, string id, KeyFilesEndpoint endpoint) => endpoint.HandleFilesAsync(context, id));
        endpoints.MapMethods("/" + GatewayRoutes.KeyFile, GatewayRoutes.AnyMethod,
            static (HttpContext context, string id, string fileId, KeyFilesEndpoint endpoint) => endpoint.HandleFileAsync(context, id, fileId));
        endpoints.MapMethods("/" + GatewayRoutes.Usage, GatewayRoutes.AnyMethod,
            static (HttpContext context, UsageEndpoint endpoint) => endpoint.HandleUsageAsync(context));
        endpoints.MapMethods("/" + GatewayRoutes.Upstreams, GatewayRoutes.AnyMethod,
            static (HttpContext context, UpstreamsEndpoint endpoint) => endpoint.HandleUpstreamsAsync(context));
        endpoints.MapMethods("/" + GatewayRoutes.UsageDaily, GatewayRoutes.AnyMethod,
            static (HttpContext context, DailyUsageEndpoint endpoint) => endpoint.HandleAsync(context));

        // The key holder's own view (docs/console.md#the-customer-endpoint), and the console's files.
        endpoints.MapGet("/" + GatewayRoutes.GatewayKey,
            static (HttpContext context, CustomerEndpoint endpoint) => endpoint.HandleKeyAsync(context));
        endpoints.MapGet("/" + GatewayRoutes.GatewayKeyDaily,
            static (HttpContext context, CustomerEndpoint endpoint) => endpoint.HandleDailyAsync(context));
        endpoints.MapGet("/" + GatewayRoutes.GatewayKeyStatement,
            static (HttpContext context, CustomerEndpoint endpoint) => endpoint.HandleStatementAsync(context));
        endpoints.MapMethods("/" + GatewayRoutes.Console, ["GET", "HEAD"],
            static (HttpContext context, string? path, ConsoleHandler handler) => handler.Handle(context, path));

        endpoints.MapMethods("/" + GatewayRoutes.Fallback, GatewayRoutes.AnyMethod,
            static (HttpContext context, FallbackHandler handler) => handler.Handle(context));
        return endpoints;
    }
}
