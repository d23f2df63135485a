using System.Reflection;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Tests.Hosting;

/// <summary>
/// Builds the Functions-mode host exactly as Program.cs does (without starting it: that needs the Functions host) with
/// service-provider validation on, and activates every function class, so a wiring error cannot hide in the mode this
/// machine cannot run.
/// </summary>
public sealed class FunctionsServiceProviderTests
{
    [Fact]
    public void FunctionsHost_ValidatesOnBuild_AndActivatesEveryFunctionClass()
    {
        // Arrange
        var builder = FunctionsHost.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Storage:ConnectionString"] = "UseDevelopmentStorage=true",
            ["Gateway:Upstreams:anthropic:Kind"] = "anthropic",
            ["Gateway:Upstreams:anthropic:BaseUrl"] = "https://api.anthropic.com",
        });
        builder.ConfigureContainer(new DefaultServiceProviderFactory(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }));
        var functionTypes = typeof(FunctionsHost).Assembly.GetTypes()
            .Where(static t => t.GetMethods().Any(static m => m.GetCustomAttribute<FunctionAttribute>() is not null))
            .ToArray();

        // Act
        using var host = builder.Build();
        using var scope = host.Services.CreateScope();
        var instances = functionTypes.Select(t => ActivatorUtilities.CreateInstance(scope.ServiceProvider, t)).ToArray();
        var options = host.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;

        // Assert
        Assert.True(functionTypes.Length >= 5);
        Assert.All(instances, Assert.NotNull);
        Assert.Equal("anthropic", options.Upstreams["anthropic"].Kind);
    }

    [Fact]
    public void FunctionsHost_StartsNoDataProtectionKeyRing_ButStillProtectsDataWhenAsked()
    {
        // Arrange
        var builder = FunctionsHost.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Gateway:Storage:ConnectionString"] = "UseDevelopmentStorage=true" });

        // Act
        var hostedServices = builder.Services.Where(static d => d.ServiceType == typeof(IHostedService)).Select(static d => d.ImplementationType?.FullName).ToList();
        using var host = builder.Build();
        var protector = host.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test");

        // Assert: the worker and its web server start as before; the key ring loads only if something protects data.
        Assert.DoesNotContain(FunctionsHost.DataProtectionHostedService, hostedServices);
        Assert.Contains("Microsoft.Azure.Functions.Worker.WorkerHostedService", hostedServices);
        Assert.Contains("Microsoft.AspNetCore.Hosting.GenericWebHostService", hostedServices);
        Assert.NotNull(protector);
    }

    [Fact]
    public void FunctionsHost_RejectsInvalidUpstreamSettings_AtStart()
    {
        // Arrange
        var builder = FunctionsHost.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Upstreams:broken:Kind"] = "anthropic",
            ["Gateway:Upstreams:broken:BaseUrl"] = "not a url",
        });
        using var host = builder.Build();

        // Act
        var failure = Record.Exception(() => host.Services.GetRequiredService<IOptions<GatewayOptions>>().Value);

        // Assert
        Assert.NotNull(failure);
    }
}
