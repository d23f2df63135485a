using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Qhaigc.Functions.Telemetry;

namespace Qhaigc.Functions.Hosting;

/// <summary>The Azure Functions mode: the isolated worker with ASP.NET Core integration.</summary>
public static class FunctionsHost
{
    /// <summary>The hosted service that loads the data protection key ring at start (internal to ASP.NET Core).</summary>
    public const string DataProtectionHostedService = "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService";

    public static IHost Build(string[] args)
    {
        var builder = CreateBuilder(args);
        return builder.Build();
    }

    /// <summary>Exposed so tests can build the Functions-mode service provider without a host.</summary>
    public static FunctionsApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = FunctionsApplication.CreateBuilder(args);
        builder.ConfigureFunctionsWebApplication();
        // As in the standalone mode: the gateway enforces its own body limit per endpoint (413 in Claude's shape), and
        // answers some requests without reading their bodies (a 404, a declared length over the limit). With the
        // server's own limit in place such a connection is reset instead of drained, which the host turns into a 502.
        builder.Services.Configure<KestrelServerOptions>(static kestrel => kestrel.Limits.MaxRequestBodySize = null);
        // The ASP.NET Core integration registers data protection, whose hosted service loads (on a new instance: creates)
        // a key ring before the worker serves. Nothing in the gateway protects data with it (no cookies, no antiforgery
        // tokens), so the start does not wait for it (docs/performance.md#cold-start); it would still load on first use.
        foreach (var keyRing in builder.Services.Where(static d => d.ServiceType == typeof(IHostedService) && d.ImplementationType?.FullName == DataProtectionHostedService).ToList())
        {
            builder.Services.Remove(keyRing);
        }
        builder.Services.AddGateway(builder.Configuration);
        builder.Services.AddGatewayTelemetry(builder.Configuration, functionsWorker: true);
        return builder;
    }
}
