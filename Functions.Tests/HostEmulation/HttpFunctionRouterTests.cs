using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Qhaigc.Functions.Tests.HostEmulation.Rpc;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>The emulated host's routing rules, without a worker: prefix, methods, precedence, route values.</summary>
public sealed class HttpFunctionRouterTests
{
    private static readonly IInlineConstraintResolver Constraints =
        new ServiceCollection().AddRouting().BuildServiceProvider().GetRequiredService<IInlineConstraintResolver>();

    // The catch-all comes first on purpose: precedence, not metadata order, decides.
    private static readonly RpcFunctionMetadata[] GatewayFunctions =
    [
        Function("Fallback", "{*path}", "get", "head", "post", "put", "patch", "delete", "options"),
        Function("Messages", "v1/messages", "post"),
        Function("Keys", "manage/keys", "get", "post"),
        Function("Key", "manage/keys/{id}", "get", "patch", "delete"),
        Function("Usage", "manage/usage", "get"),
    ];

    [Theory]
    [InlineData("POST", "/v1/messages", "Messages")]
    [InlineData("post", "/V1/Messages/", "Messages")]
    [InlineData("GET", "/v1/messages", "Fallback")]
    [InlineData("GET", "/manage/keys", "Keys")]
    [InlineData("DELETE", "/manage/keys/key_1", "Key")]
    [InlineData("POST", "/manage/usage", "Fallback")]
    [InlineData("HEAD", "/", "Fallback")]
    [InlineData("GET", "/anything/else", "Fallback")]
    public void TryMatch_PicksTheMostSpecificRoute_ThatAllowsTheMethod(string method, string path, string function)
    {
        // Arrange
        var router = HttpFunctionRouter.Create(GatewayFunctions, string.Empty, Constraints);

        // Act / Assert
        Assert.True(router.TryMatch(Request(method, path), out var route, out _));
        Assert.Equal(function, route.FunctionName);
    }

    [Fact]
    public void TryMatch_FindsNoFunction_ForAMethodNoTriggerAllows()
    {
        // Arrange
        var router = HttpFunctionRouter.Create(GatewayFunctions, string.Empty, Constraints);

        // Act / Assert: the host answers 404 itself; the worker never sees the request.
        Assert.False(router.TryMatch(Request("TRACE", "/"), out _, out _));
    }

    [Fact]
    public void TryMatch_ReturnsRouteValues_ForTheTriggerMetadata()
    {
        // Arrange
        var router = HttpFunctionRouter.Create(GatewayFunctions, string.Empty, Constraints);

        // Act
        Assert.True(router.TryMatch(Request("GET", "/manage/keys/key_42"), out var route, out var values));

        // Assert
        Assert.Equal("Key", route.FunctionName);
        Assert.Equal("key_42", values["id"]);
    }

    [Fact]
    public void Create_UsesTheRoutePrefix_AndTheFunctionNameWhenARouteIsMissing()
    {
        // Arrange
        var router = HttpFunctionRouter.Create([Function("Hello", null, "get"), Function("Items", "items/{id:int}", "get")], "api", Constraints);

        // Act / Assert
        Assert.True(router.TryMatch(Request("GET", "/api/hello"), out var hello, out _));
        Assert.Equal("Hello", hello.FunctionName);
        Assert.False(router.TryMatch(Request("GET", "/hello"), out _, out _));
        Assert.True(router.TryMatch(Request("GET", "/api/items/7"), out _, out _));
        Assert.False(router.TryMatch(Request("GET", "/api/items/seven"), out _, out _));
    }

    [Fact]
    public void Create_SkipsFunctionsWithoutAnHttpTrigger_AndAllowsEveryMethodWhenNoneAreListed()
    {
        // Arrange
        var timer = new RpcFunctionMetadata { Name = "Timer", FunctionId = "timer", RawBindings = { """{"name":"timer","type":"timerTrigger","direction":"In"}""" } };
        var any = new RpcFunctionMetadata { Name = "Any", FunctionId = "any", RawBindings = { """{"name":"req","type":"HttpTrigger","direction":"In","route":"any"}""" } };

        // Act
        var router = HttpFunctionRouter.Create([timer, any], string.Empty, Constraints);

        // Assert
        var route = Assert.Single(router.Routes);
        Assert.Equal("req", route.BindingName);
        Assert.True(router.TryMatch(Request("PROPFIND", "/any"), out _, out _));
    }

    private static RpcFunctionMetadata Function(string name, string? route, params string[] methods)
    {
        var binding = new System.Text.Json.Nodes.JsonObject
        {
            ["name"] = "request",
            ["type"] = "httpTrigger",
            ["direction"] = "In",
            ["authLevel"] = "Anonymous",
            ["methods"] = new System.Text.Json.Nodes.JsonArray([.. methods.Select(static m => (System.Text.Json.Nodes.JsonNode)m)]),
        };
        if (route is not null)
        {
            binding["route"] = route;
        }

        return new RpcFunctionMetadata { Name = name, FunctionId = name.ToLowerInvariant(), RawBindings = { binding.ToJsonString() } };
    }

    private static DefaultHttpContext Request(string method, string path) => new()
    {
        Request = { Method = method, Path = path },
    };
}
