using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Hosting;

/// <summary>
/// The Functions mode cannot run on this machine, so its contract is checked from the build output: the generated
/// <c>functions.metadata</c> and <c>host.json</c> must describe exactly the routes the standalone mode serves.
/// </summary>
public sealed class FunctionsMetadataTests
{
    private static readonly string[] ReservedPrefixes = ["admin", "runtime"];

    [Fact]
    public void HostJson_SetsEmptyRoutePrefix()
    {
        // Arrange
        using var hostJson = JsonDocument.Parse(File.ReadAllText(BuildOutput.FunctionsFile("host.json")));

        // Act
        var prefix = hostJson.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString();

        // Assert
        Assert.Equal("", prefix);
        Assert.Equal("2.0", hostJson.RootElement.GetProperty("version").GetString());
    }

    [Fact]
    public async Task FunctionsMetadata_RoutesAndMethods_EqualStandaloneEndpoints()
    {
        // Arrange
        var functions = ReadHttpFunctions();
        await using var app = StandaloneHost.Build([], static builder => builder.Configuration.AddInMemoryCollection(
            new Dictionary<string, string?> { ["Gateway:Storage:ConnectionString"] = "UseDevelopmentStorage=true" }));

        // Act
        var standalone = ((IEndpointRouteBuilder)app).DataSources.SelectMany(static source => source.Endpoints)
            .OfType<RouteEndpoint>()
            .SelectMany(static e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Select(m => (Route: e.RoutePattern.RawText!.TrimStart('/'), Method: m.ToUpperInvariant())))
            .ToHashSet();
        var declared = functions.SelectMany(static f => f.Methods.Select(m => (f.Route, Method: m.ToUpperInvariant()))).ToHashSet();

        // Assert
        Assert.NotEmpty(declared);
        Assert.Equal(declared.OrderBy(static x => x.ToString()), standalone.OrderBy(static x => x.ToString()));
    }

    [Fact]
    public void FunctionsMetadata_UsesAnonymousTriggers_AndNoReservedRoutes()
    {
        // Arrange & Act
        var functions = ReadHttpFunctions();

        // Assert: the gateway checks keys itself; the host owns /admin and /runtime.
        Assert.Contains(functions, static f => f.Route == GatewayRoutes.Messages);
        foreach (var (route, methods) in new[]
                 {
                     (GatewayRoutes.MessageBatches, new[] { "get", "post" }), (GatewayRoutes.MessageBatch, ["get", "delete"]),
                     (GatewayRoutes.MessageBatchCancel, ["post"]), (GatewayRoutes.MessageBatchResults, ["get"]),
                 })
        {
            Assert.Contains(functions, f => f.Route == route && f.Methods.Order().SequenceEqual(methods.Order(), StringComparer.OrdinalIgnoreCase));
        }

        foreach (var function in functions)
        {
            Assert.Equal("Anonymous", function.AuthLevel, ignoreCase: true);
            Assert.DoesNotContain(ReservedPrefixes, prefix => function.Route.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public void FunctionsMetadata_DeclaresTheBatchSettlementTimer_OnItsScheduleSetting()
    {
        // Arrange
        using var metadata = JsonDocument.Parse(File.ReadAllText(BuildOutput.FunctionsFile("functions.metadata")));

        // Act
        var timers = metadata.RootElement.EnumerateArray()
            .SelectMany(static f => f.GetProperty("bindings").EnumerateArray().Select(b => (Name: f.GetProperty("name").GetString(), Binding: b)))
            .Where(static x => x.Binding.GetProperty("type").GetString() == "timerTrigger")
            .ToArray();

        // Assert: one timer, whose schedule the host reads from the app setting (docs/configuration.md#message-batches).
        var (name, binding) = Assert.Single(timers);
        Assert.Equal("BatchSettlement", name);
        Assert.Equal("%" + Qhaigc.Functions.Batches.BatchSettlementOptions.SettleScheduleSetting + "%", binding.GetProperty("schedule").GetString());
        Assert.Equal("%Gateway:Batches:SettleSchedule%", binding.GetProperty("schedule").GetString());
    }

    [Fact]
    public void FunctionsMetadata_DeclaresTheConsoleAndTheCustomerEndpoint()
    {
        // Arrange & Act
        var functions = ReadHttpFunctions();

        // Assert: /console (its catch-all takes /console itself) for GET and HEAD; the key holder's routes for GET.
        var console = Assert.Single(functions, static f => f.Route == GatewayRoutes.Console);
        Assert.Equal(["get", "head"], console.Methods.Select(static m => m.ToLowerInvariant()).Order(StringComparer.Ordinal));
        foreach (var route in new[] { GatewayRoutes.GatewayKey, GatewayRoutes.GatewayKeyDaily, GatewayRoutes.GatewayKeyStatement, GatewayRoutes.UsageDaily })
        {
            Assert.Contains(functions, f => f.Route == route);
        }
    }

    private static List<(string Name, string Route, string[] Methods, string AuthLevel)> ReadHttpFunctions()
    {
        using var metadata = JsonDocument.Parse(File.ReadAllText(BuildOutput.FunctionsFile("functions.metadata")));
        var functions = new List<(string, string, string[], string)>();
        foreach (var function in metadata.RootElement.EnumerateArray())
        {
            foreach (var binding in function.GetProperty("bindings").EnumerateArray())
            {
                if (binding.GetProperty("type").GetString() == "httpTrigger")
                {
                    functions.Add((
                        function.GetProperty("name").GetString()!,
                        binding.GetProperty("route").GetString()!,
                        binding.GetProperty("methods").EnumerateArray().Select(static m => m.GetString()!).ToArray(),
                        binding.GetProperty("authLevel").GetString()!));
                }
            }
        }

        return functions;
    }
}
