using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NSubstitute;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Hosting;

/// <summary>What the composition does before the first call can be served (docs/performance.md#cold-start).</summary>
public sealed class StartupCostTests
{
    [Fact]
    public async Task MapGateway_BindsNoParameters_SoNoBinderIsCompiledForTheFirstRequest()
    {
        // Arrange
        await using var app = StandaloneHost.Build(["--urls", "http://127.0.0.1:0"]);

        // Act: the endpoints as routing builds them when the first request arrives.
        var endpoints = ((IEndpointRouteBuilder)app).DataSources.SelectMany(static source => source.Endpoints).OfType<RouteEndpoint>().ToList();

        // Assert: a route handler with parameters gets a binder compiled for it, and parameter metadata to show it.
        Assert.NotEmpty(endpoints);
        Assert.All(endpoints, static endpoint =>
            Assert.True(endpoint.Metadata.GetOrderedMetadata<IParameterBindingMetadata>().Count == 0, $"{endpoint.RoutePattern.RawText} binds parameters"));
    }

    [Fact]
    public void AddGateway_KeepsTheUsageStore_WhenTheHostRegisteredOne()
    {
        // Arrange: a host with a store of its own (the benchmark's, which only counts).
        var store = Substitute.For<IUsageStore>();
        var services = new ServiceCollection().AddSingleton(store);

        // Act
        services.AddGateway(new ConfigurationBuilder().Build());
        using var provider = services.BuildServiceProvider();

        // Assert
        Assert.Same(store, provider.GetRequiredService<IUsageStore>());
    }
}
