using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NSubstitute;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Tests.Upstreams;

/// <summary>
/// Pools and affinity in <see cref="UpstreamRouter"/> (docs/configuration.md#pools-and-affinity): equal patterns and
/// priority form a pool, weights spread calls, and a conversation's member is the same on every instance and moves
/// only when the pool's membership changes what it wins.
/// </summary>
public sealed class UpstreamPoolTests
{
    private const string Model = "claude-sonnet-4-5";

    [Fact]
    public void Candidates_TryALowerPriority_OnlyAfterEveryMemberOfThePoolAbove()
    {
        // Arrange: a pool of two at priority 0, one upstream at priority 1, a more specific one above all.
        var router = Router(("a", "claude-*", 0, 1), ("b", "claude-*", 0, 1), ("spare", "claude-*", 1, 1), ("exact", Model, 5, 1));

        // Act
        var orders = Enumerable.Range(0, 200).Select(i => Names(router.Candidates(Model, new CallAffinity("session-" + i, null, "key")))).ToList();

        // Assert: the exact pattern first (whatever its priority), then the pool in either order, then the spare.
        Assert.All(orders, static o => Assert.True(o is ["exact", "a", "b", "spare"] or ["exact", "b", "a", "spare"], string.Join(",", o)));
        Assert.Contains(orders, static o => o[1] == "a");
        Assert.Contains(orders, static o => o[1] == "b");
    }

    [Fact]
    public void Candidates_PlaceASession_OnTheSameMember_OnEveryInstance()
    {
        // Arrange: two gateway instances, their settings read in different orders.
        var first = Router(("a", "*", 0, 1), ("b", "*", 0, 2), ("c", "*", 0, 1));
        var second = Router(("c", "*", 0, 1), ("a", "*", 0, 1), ("b", "*", 0, 2));

        // Act
        var sessions = Enumerable.Range(0, 500).Select(static i => new CallAffinity("session-" + i, null, "key")).ToList();

        // Assert: the same whole order, for every session, and the same on a second look.
        Assert.All(sessions, s => Assert.Equal(Names(first.Candidates(Model, s)), Names(second.Candidates(Model, s))));
        Assert.All(sessions, s => Assert.Equal(Names(first.Candidates(Model, s)), Names(first.Candidates(Model, s))));
    }

    [Fact]
    public void Candidates_SpreadConversations_ByWeight()
    {
        // Arrange
        var router = Router(("light", "*", 0, 1), ("middle", "*", 0, 2), ("heavy", "*", 0, 5));

        // Act
        var firsts = Enumerable.Range(0, 16_000)
            .Select(i => router.Candidates(Model, new CallAffinity("conversation-" + i, null, "key"))[0].Upstream.Name)
            .GroupBy(static n => n).ToDictionary(static g => g.Key, static g => g.Count() / 16_000.0);

        // Assert: within two points of 1/8, 2/8 and 5/8.
        Assert.InRange(firsts["light"], 0.125 - 0.02, 0.125 + 0.02);
        Assert.InRange(firsts["middle"], 0.25 - 0.02, 0.25 + 0.02);
        Assert.InRange(firsts["heavy"], 0.625 - 0.02, 0.625 + 0.02);
    }

    [Fact]
    public void Candidates_MoveOnlyTheConversationsANewMemberWins_WhenItJoins()
    {
        // Arrange
        var before = Router(("a", "*", 0, 1), ("b", "*", 0, 1), ("c", "*", 0, 1));
        var after = Router(("a", "*", 0, 1), ("b", "*", 0, 1), ("c", "*", 0, 1), ("d", "*", 0, 1));
        var sessions = Enumerable.Range(0, 4_000).Select(static i => new CallAffinity("session-" + i, null, "key")).ToList();

        // Act
        var moved = sessions
            .Select(s => (Before: before.Candidates(Model, s)[0].Upstream.Name, After: after.Candidates(Model, s)[0].Upstream.Name))
            .Where(static p => p.Before != p.After)
            .ToList();

        // Assert: every conversation that moved went to the new member, and about a quarter did.
        Assert.All(moved, static p => Assert.Equal("d", p.After));
        Assert.InRange(moved.Count, 4_000 / 4 - 200, 4_000 / 4 + 200);
    }

    [Theory]
    [InlineData("session-1", "user-1", "session")]
    [InlineData(null, "user-1", "user")]
    [InlineData(null, null, "key")]
    public void CallAffinity_TakesTheSessionHeader_ThenTheUserId_ThenTheKey(string? session, string? user, string expected)
    {
        // Arrange
        var affinity = new CallAffinity(session, user, "key-1");

        // Act
        var key = affinity.KeyFor(AffinityModes.Session);

        // Assert
        Assert.Equal(expected switch { "session" => "s:session-1", "user" => "u:user-1", _ => "k:key-1" }, key);
        Assert.Equal("k:key-1", affinity.KeyFor(AffinityModes.Key));
        Assert.Null(affinity.KeyFor(AffinityModes.None));
    }

    [Fact]
    public void CallAffinity_ReadsMetadataUserId_FromTheRequest()
    {
        // Arrange
        using var request = MessagesRequests.Create(extra: ""","metadata":{"user_id":"user-7"}""");

        // Act
        var affinity = CallAffinity.Of("", request, "key-1");

        // Assert
        Assert.Equal("u:user-7", affinity.KeyFor(AffinityModes.Session));
    }

    [Fact]
    public void Candidates_DrawByWeight_WithAffinityOff()
    {
        // Arrange: one conversation, many calls.
        var router = Router(AffinityModes.None, ("a", "*", 0, 1), ("b", "*", 0, 3));
        var affinity = new CallAffinity("one-session", null, "key");

        // Act
        var share = Enumerable.Range(0, 8_000).Count(_ => router.Candidates(Model, affinity)[0].Upstream.Name == "b") / 8_000.0;

        // Assert: spread over both members by weight, not stuck on one.
        Assert.InRange(share, 0.75 - 0.03, 0.75 + 0.03);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void Validator_RefusesAWeightBelowOne(int weight)
    {
        // Arrange
        var options = new GatewayOptions();
        options.Upstreams["a"] = Anthropic("*");
        options.Upstreams["a"].Weight = weight;

        // Act
        var result = new GatewayOptionsValidator().Validate(null, options);

        // Assert
        Assert.True(result.Failed);
        Assert.Contains("Gateway:Upstreams:a:Weight must be a positive integer", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validator_RefusesAnUnknownAffinity()
    {
        // Arrange
        var options = new GatewayOptions { Routing = { Affinity = "sticky" } };

        // Act
        var result = new GatewayOptionsValidator().Validate(null, options);

        // Assert
        Assert.True(result.Failed);
        Assert.Contains("Gateway:Routing:Affinity", result.FailureMessage, StringComparison.Ordinal);
    }

    private static string[] Names(IReadOnlyList<UpstreamRoute> routes) => routes.Select(static r => r.Upstream.Name).ToArray();

    private static UpstreamRouter Router(params (string Name, string Models, int Priority, int Weight)[] upstreams) =>
        Router(AffinityModes.Session, upstreams);

    private static UpstreamRouter Router(string affinity, params (string Name, string Models, int Priority, int Weight)[] upstreams)
    {
        var options = new GatewayOptions { Routing = { Affinity = affinity } };
        foreach (var (name, models, priority, weight) in upstreams)
        {
            var upstream = Anthropic(models);
            upstream.Priority = priority;
            upstream.Weight = weight;
            options.Upstreams[name] = upstream;
        }

        var factory = Substitute.For<IHttpClientFactory>();
        factory.CreateClient(Arg.Any<string>()).Returns(_ => new HttpClient());
        return new UpstreamRouter(Options.Create(options), factory, NullLoggerFactory.Instance);
    }

    private static UpstreamOptions Anthropic(string models) =>
        new() { Kind = "anthropic", BaseUrl = new Uri("http://127.0.0.1:1/"), Models = models };
}
