using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

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
        builder.Services.AddGateway(builder.Configuration);
        return builder;
    }
}
