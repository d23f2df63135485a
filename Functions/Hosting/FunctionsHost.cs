using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Qhaigc.Functions.Telemetry;

namespace Qhaigc.Functions.Hosting;

/// <summary>The Azure Functions mode: the isolated worker with ASP.NET Core integration.</summary>
public static class FunctionsHost
{
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
        builder.Services.AddGateway(builder.Configuration);
        builder.Services.AddGatewayTelemetry(builder.Configuration, functionsWorker: true);
        return builder;
    }
}
