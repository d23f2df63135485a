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

    [Fact]
    public void Candidates_ListEveryServingUpstream_MostSpecificFirst_ThenByName()
    {
        // Arrange
        var options = new GatewayOptions();
        options.Upstreams["z-catch-all"] = Anthropic("*");
        options.Upstreams["b-claude"] = Anthropic("claude-*");
        options.Upstreams["a-claude"] = Anthropic("claude-*");
        options.Upstreams["c-exact"] = Anthropic("gpt-4o,claude-opus-4-1");
        var mapped = Anthropic("claude-*");
        mapped.ModelMap["claude-opus-4-1"] = "opus-on-d";
        options.Upstreams["d-mapped"] = mapped;
        var router = Router(options);

        // Act
        var candidates = router.Candidates("claude-opus-4-1");

        // Assert: the primary, then the fallbacks in a fixed order, each with its own model name.
        Assert.Equal(["c-exact", "a-claude", "b-claude", "d-mapped", "z-catch-all"], candidates.Select(static c => c.Upstream.Name));
        Assert.Equal("opus-on-d", candidates[3].UpstreamModel);
        Assert.Equal("claude-opus-4-1", candidates[0].UpstreamModel);
        Assert.Equal(["z-catch-all"], router.Candidates("llama3").Select(static c => c.Upstream.Name));
        Assert.Equal("c-exact", router.Route("claude-opus-4-1")!.Value.Upstream.Name);
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
