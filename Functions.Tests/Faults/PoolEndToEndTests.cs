using System.Net;
using Qhaigc.Functions.Tests.Infrastructure;
using Models = Qhaigc.Functions.Tests.TestDoubles.FakeAnthropicUpstream.Models;

namespace Qhaigc.Functions.Tests.Faults;

/// <summary>
/// One pool of three upstream servers behind the gateway (docs/configuration.md#pools-and-affinity, docs/faults.md#health):
/// weights honoured over many calls, members that die, rate-limit or refuse the gateway's key skipped without a client
/// ever failing while a member is available, and a conversation kept on one member by every gateway instance.
/// </summary>
public sealed class PoolEndToEndTests
{
    [Fact]
    public async Task Pool_SpreadsCallsByWeight_WithAffinityOff()
    {
        // Arrange: weights 1, 2 and 3.
        await using var pool = await PoolArrangement.StartAsync([1, 2, 3], "none");
        using var http = RawClient.Create(pool.Gateways[0].BaseAddress);

        // Act
        var statuses = await CallAsync(http, pool.Secret, 900);

        // Assert: every call answered, and each member's share within 4.5 standard deviations of its weight's (a random
        // pick per call: a fixed band of four points failed about one run in forty). The bands still keep the three
        // weights apart: 1/6 at most 0.223, 2/6 from 0.263 to 0.404, 3/6 at least 0.425.
        Assert.All(statuses, static s => Assert.Equal(HttpStatusCode.OK, s));
        var calls = pool.Calls();
        Assert.Equal(900, calls.Sum());
        AssertShare(calls[0], 900, 1 / 6.0);
        AssertShare(calls[1], 900, 2 / 6.0);
        AssertShare(calls[2], 900, 3 / 6.0);
    }

    /// <summary>A binomial share of <paramref name="total"/> picks within 4.5 standard deviations of <paramref name="expected"/>.</summary>
    private static void AssertShare(int count, int total, double expected)
    {
        var band = 4.5 * Math.Sqrt(expected * (1 - expected) / total);
        Assert.InRange(count / (double)total, expected - band, expected + band);
    }

    [Fact]
    public async Task Pool_AnswersEveryCall_WhileOneMemberIsKilledAndAnotherRateLimited()
    {
        // Arrange
        await using var pool = await PoolArrangement.StartAsync([1, 1, 1], "none");
        using var http = RawClient.Create(pool.Gateways[0].BaseAddress);
        var warmUp = await CallAsync(http, pool.Secret, 30);

        // Act: one member dies mid-run, another answers 429 and asks for a minute; one call at a time from here, so
        // that none is in flight when the 429 comes back.
        await pool.Members[1].DisposeAsync();
        pool.Members[2].OutageStatus = 429;
        pool.Members[2].OutageRetryAfter = "60";
        var limitedBefore = pool.Members[2].MessageCalls;
        var during = await CallAsync(http, pool.Secret, 120, parallel: 1);

        // Assert: no call failed; the rate-limited member got its one 429 and nothing more while it rests.
        Assert.All(warmUp.Concat(during), static s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(limitedBefore + 1, pool.Members[2].MessageCalls);
        Assert.True(pool.Members[0].MessageCalls >= 120, $"the healthy member took {pool.Members[0].MessageCalls}");
    }

    [Fact]
    public async Task Pool_TakesOutAMemberThatRefusesTheGatewaysKey_AndNoClientSeesA401()
    {
        // Arrange
        await using var pool = await PoolArrangement.StartAsync([1, 1, 1], "none");
        pool.Members[0].OutageStatus = 401;
        using var http = RawClient.Create(pool.Gateways[0].BaseAddress);

        // Act: one call at a time, so that none is in flight when the refusal comes back.
        var statuses = await CallAsync(http, pool.Secret, 60, parallel: 1);

        // Assert
        Assert.All(statuses, static s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.InRange(pool.Members[0].MessageCalls, 0, 1);
        Assert.Equal(60, pool.Members[1].MessageCalls + pool.Members[2].MessageCalls);
    }

    [Fact]
    public async Task Affinity_KeepsASessionOnOneMember_OnTwoGateways_MovesItWhileItRests_AndBringsItBack()
    {
        // Arrange: two gateway instances over the same pool.
        await using var pool = await PoolArrangement.StartAsync([1, 1, 1], "session", gateways: 2);
        using var first = RawClient.Create(pool.Gateways[0].BaseAddress);
        using var second = RawClient.Create(pool.Gateways[1].BaseAddress);

        // Act: the same session on both instances, by turns.
        var members = new List<int>();
        for (var i = 0; i < 10; i++)
        {
            members.Add(await ServedAsync(pool, i % 2 == 0 ? first : second, "session-42"));
        }

        // Assert: one member, every time, on both.
        var home = members[0];
        Assert.InRange(home, 0, 2);
        Assert.All(members, m => Assert.Equal(home, m));

        // Act: its member asks for two seconds' rest.
        pool.Members[home].OutageStatus = 429;
        pool.Members[home].OutageRetryAfter = "2";
        var callsBefore = pool.Calls();
        using var moved = await first.SendAsync(Request(pool.Secret, "session-42"));
        var away = PoolArrangement.Served(callsBefore, pool.Calls().Select((c, i) => i == home ? callsBefore[i] : c).ToArray());
        pool.Members[home].OutageStatus = null;
        var awayAgain = await ServedAsync(pool, first, "session-42");

        // Assert: answered by another member, and kept there while the home member rests.
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.NotEqual(home, away);
        Assert.Equal(away, awayAgain);

        // Act: once the rest is over, the session comes home.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        int back;
        do
        {
            await Task.Delay(250);
            back = await ServedAsync(pool, first, "session-42");
        }
        while (back != home && DateTime.UtcNow < deadline);

        // Assert
        Assert.Equal(home, back);
        Assert.Equal(home, await ServedAsync(pool, second, "session-42"));
    }

    private static async Task<int> ServedAsync(PoolArrangement pool, HttpClient http, string session)
    {
        var before = pool.Calls();
        using var response = await http.SendAsync(Request(pool.Secret, session));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return PoolArrangement.Served(before, pool.Calls());
    }

    private static HttpRequestMessage Request(string secret, string session)
    {
        var request = RawClient.Messages(secret, RawClient.Body(Models.Text));
        request.Headers.TryAddWithoutValidation("x-claude-code-session-id", session);
        return request;
    }

    /// <summary>Calls the gateway <paramref name="count"/> times, <paramref name="parallel"/> at a time, alternating whole and streamed answers.</summary>
    private static async Task<List<HttpStatusCode>> CallAsync(HttpClient http, string secret, int count, int parallel = 8)
    {
        var statuses = new HttpStatusCode[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (i, cancellationToken) =>
        {
            using var response = await http.SendAsync(RawClient.Messages(secret, RawClient.Body(Models.Text, stream: i % 2 == 1)), cancellationToken);
            await response.Content.ReadAsByteArrayAsync(cancellationToken);
            statuses[i] = response.StatusCode;
        });
        return [.. statuses];
    }
}
