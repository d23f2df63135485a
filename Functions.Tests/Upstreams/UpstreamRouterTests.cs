using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NSubstitute;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Tests.Upstreams;

public sealed class UpstreamRouterTests
{
    [Fact]
    public void Route_UsesLocalUpstream_WhenNoneIsConfigured()
    {
        // Arrange
        var router = Router(new GatewayOptions());

        // Act
        var route = router.Route("claude-sonnet-4-5");

        // Assert
        Assert.NotNull(route);
        Assert.IsType<LocalUpstream>(route.Value.Upstream);
        Assert.Equal("claude-sonnet-4-5", route.Value.UpstreamModel);
    }

    [Fact]
    public void Route_PrefersTheMostSpecificPattern_RegardlessOfNames()
    {
        // Arrange
        var options = new GatewayOptions();
        options.Upstreams["a-catch-all"] = Anthropic("*");
        options.Upstreams["b-claude"] = Anthropic("claude-*");
        options.Upstreams["c-exact"] = Anthropic("claude-opus-4-1");

        var router = Router(options);

        // Act & Assert
        Assert.Equal("c-exact", router.Route("claude-opus-4-1")!.Value.Upstream.Name);
        Assert.Equal("b-claude", router.Route("claude-sonnet-4-5")!.Value.Upstream.Name);
        Assert.Equal("a-catch-all", router.Route("llama3")!.Value.Upstream.Name);
    }

    [Fact]
    public void Route_ReturnsNull_ForUnservedModels_AndMapsNames()
    {
        // Arrange
        var options = new GatewayOptions();
        var upstream = Anthropic("claude-*");
        upstream.ModelMap["claude-house"] = "claude-sonnet-4-5-20250929";
        options.Upstreams["anthropic"] = upstream;
        var router = Router(options);

        // Act & Assert
        Assert.Null(router.Route("gpt-4o"));
        Assert.Equal("claude-sonnet-4-5-20250929", router.Route("claude-house")!.Value.UpstreamModel);
        Assert.Equal("claude-other", router.Route("claude-other")!.Value.UpstreamModel);
    }

    private static UpstreamOptions Anthropic(string models) =>
        new() { Kind = "anthropic", BaseUrl = new Uri("http://127.0.0.1:1/"), Models = models };

    private static UpstreamRouter Router(GatewayOptions options)
    {
        var factory = Substitute.For<IHttpClientFactory>();
        factory.CreateClient(Arg.Any<string>()).Returns(_ => new HttpClient());
        return new UpstreamRouter(Options.Create(options), factory, NullLoggerFactory.Instance);
    }
}
