using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Hosting;

/// <summary>The standalone mode's model calls, dispatched before routing, go where routing would send them.</summary>
public sealed class HotRoutesTests
{
    [Theory]
    [InlineData("POST", "/v1/messages", "/v1/messages")]
    [InlineData("post", "/V1/Messages", "/v1/messages")]
    [InlineData("POST", "/v1/messages/", "/v1/messages")]
    [InlineData("POST", "/v1/messages/count_tokens", "/v1/messages/count_tokens")]
    [InlineData("POST", "/v1/MESSAGES/count_tokens/", "/v1/messages/count_tokens")]
    [InlineData("POST", "/v1/chat/completions", "/v1/chat/completions")]
    [InlineData("GET", "/v1/messages", null)]
    [InlineData("HEAD", "/v1/chat/completions", null)]
    [InlineData("POST", "/v1/messages//", null)]
    [InlineData("POST", "/v1/messagesx", null)]
    [InlineData("POST", "/v1/message", null)]
    [InlineData("POST", "/v1/messages/batches", null)]
    [InlineData("POST", "/v1", null)]
    [InlineData("POST", "/", null)]
    [InlineData("POST", "", null)]
    public void Match_TakesOnlyTheModelCalls(string method, string path, string? route)
    {
        // Act
        var endpoint = HotRoutes.Match(method, path);

        // Assert: the endpoint is the one routing has for the route (its pattern, its method), or none.
        Assert.Equal(route, endpoint?.RoutePattern.RawText);
        if (endpoint is not null)
        {
            Assert.Equal([HttpMethods.Post], endpoint.Metadata.GetRequiredMetadata<HttpMethodMetadata>().HttpMethods);
        }
    }

    [Theory]
    [InlineData("POST", "/v1/messages")]
    [InlineData("POST", "/V1/Messages/")]
    [InlineData("POST", "/v1/messages/count_tokens")]
    [InlineData("POST", "/v1/Chat/Completions/")]
    [InlineData("GET", "/v1/messages")]
    [InlineData("POST", "/v1/messages//")]
    [InlineData("POST", "/v1/messagesx")]
    [InlineData("POST", "/v1/messages/batches")]
    [InlineData("PUT", "/v1/chat/completions")]
    public async Task Match_AgreesWithRoutingOverTheGatewaysRouteTable(string method, string path)
    {
        // Arrange: the gateway's route table under ASP.NET Core's routing, on a socket; the last middleware says which
        // route routing chose instead of running it.
        var builder = WebApplication.CreateSlimBuilder(["--urls", $"http://127.0.0.1:{FreePort.Next()}"]);
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        app.UseRouting();
        app.MapGateway();
        app.Use((HttpContext context, RequestDelegate _) =>
            context.Response.WriteAsync((context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "none"));
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        // Act
        using var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        var routed = await response.Content.ReadAsStringAsync();
        var dispatched = HotRoutes.Match(method, path)?.RoutePattern.RawText;

        // Assert: the dispatch takes exactly the calls routing sends to a model call's route, to that route.
        string[] modelCalls = ["/v1/messages", "/v1/messages/count_tokens", "/v1/chat/completions"];
        Assert.Equal(modelCalls.Contains(routed) ? routed : null, dispatched);
    }
}
