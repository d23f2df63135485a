using System.Globalization;
using System.Net;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>
/// Requests per minute and concurrent streams against Azurite with three gateway instances sharing the tables, on one
/// fake clock so that minute windows are exact.
/// </summary>
public sealed class RateLimitConcurrencyTests
{
    private const int Instances = 3;
    private const int Calls = 12;
    private const int RequestsPerMinute = 5;

    [Fact]
    public async Task RequestsPerMinute_ConcurrentCallsOnSeveralInstances_ExactlyTheLimitSucceedsPerWindow()
    {
        // Arrange
        var time = GatewayCluster.ClockAtSecond(10);
        await using var cluster = await GatewayCluster.StartAsync(Instances, time: time);
        var (secret, _) = await cluster.Environment.CreateKeyAsync(limits: $$"""{"requestsPerMinute":{{RequestsPerMinute}}}""");
        var body = RawClient.Body(FakeAnthropicUpstream.Models.Text, maxTokens: 15);

        // Act
        var responses = await Task.WhenAll(Enumerable.Range(0, Calls).Select(i => SpendCapConcurrencyTests.SendAsync(cluster, i, secret, body)));

        // Assert: no per-instance counter: 5 in the window across all three instances, not 3 x 5.
        var ok = responses.Where(static r => r.Status == HttpStatusCode.OK).ToArray();
        var limited = responses.Where(static r => r.Status != HttpStatusCode.OK).ToArray();
        Assert.Equal(RequestsPerMinute, ok.Length);
        Assert.Equal(
            Enumerable.Range(0, RequestsPerMinute).Select(static i => i.ToString(CultureInfo.InvariantCulture)).Order(),
            ok.Select(static r => r.Headers["anthropic-ratelimit-requests-remaining"]).Order());
        Assert.All(limited, r =>
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, r.Status);
            Assert.Contains("\"rate_limit_error\"", r.Body, StringComparison.Ordinal);
            Assert.Equal("true", r.ShouldRetry);
            Assert.Equal("50", r.Headers["retry-after"]);
            Assert.Equal("50000", r.Headers["retry-after-ms"]);
            Assert.Equal("5", r.Headers["anthropic-ratelimit-requests-limit"]);
            Assert.Equal("0", r.Headers["anthropic-ratelimit-requests-remaining"]);
            var reset = DateTimeOffset.Parse(r.Headers["anthropic-ratelimit-requests-reset"], CultureInfo.InvariantCulture);
            Assert.Equal(time.GetUtcNow().AddSeconds(50), reset);
        });
    }

    [Fact]
    public async Task RequestsPerMinute_AcrossAWindowBoundary_OvershootsAtMostTwiceTheLimitInSixtySeconds()
    {
        // Arrange: the documented bound of a fixed window. The last second of one minute and the first of the next
        // may each admit the whole limit: 2 x limit within two seconds, and never more.
        var time = GatewayCluster.ClockAtSecond(59);
        await using var cluster = await GatewayCluster.StartAsync(Instances, time: time);
        var (secret, _) = await cluster.Environment.CreateKeyAsync(limits: $$"""{"requestsPerMinute":{{RequestsPerMinute}}}""");
        var body = RawClient.Body(FakeAnthropicUpstream.Models.Text, maxTokens: 15);

        // Act
        var endOfMinute = await Task.WhenAll(Enumerable.Range(0, Calls).Select(i => SpendCapConcurrencyTests.SendAsync(cluster, i, secret, body)));
        time.Advance(TimeSpan.FromSeconds(1));
        var startOfNext = await Task.WhenAll(Enumerable.Range(0, Calls).Select(i => SpendCapConcurrencyTests.SendAsync(cluster, i, secret, body)));
        time.Advance(TimeSpan.FromSeconds(58));
        var laterInNext = await SpendCapConcurrencyTests.SendAsync(cluster, 0, secret, body);

        // Assert
        Assert.Equal(RequestsPerMinute, endOfMinute.Count(static r => r.Status == HttpStatusCode.OK));
        Assert.Equal(RequestsPerMinute, startOfNext.Count(static r => r.Status == HttpStatusCode.OK));
        Assert.Equal(2 * RequestsPerMinute, endOfMinute.Concat(startOfNext).Count(static r => r.Status == HttpStatusCode.OK));
        Assert.Equal(HttpStatusCode.TooManyRequests, laterInNext.Status);
        Assert.Equal("2", laterInNext.Headers["retry-after"]);
    }

    [Fact]
    public async Task ConcurrentStreams_OnSeveralInstances_OnlyTheLimitRuns_AndSlotsComeBack()
    {
        // Arrange
        await using var cluster = await GatewayCluster.StartAsync(Instances);
        var (secret, key) = await cluster.Environment.CreateKeyAsync(limits: """{"concurrentStreams":2}""");
        var paced = RawClient.Body(FakeAnthropicUpstream.Models.Paced, stream: true, maxTokens: 15);
        var clients = Enumerable.Range(0, 5).Select(cluster.Http).ToArray();

        // Act: five streams that hold until released.
        var starts = await Task.WhenAll(clients.Select(c => c.SendAsync(RawClient.Messages(secret, paced), HttpCompletionOption.ResponseHeadersRead)));
        var running = starts.Where(static r => r.StatusCode == HttpStatusCode.OK).ToArray();
        var refused = starts.Where(static r => r.StatusCode != HttpStatusCode.OK).ToArray();
        cluster.Upstream.ReleasePaced();
        foreach (var response in running)
        {
            Assert.Contains("event: message_stop", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await cluster.WaitForIdleAsync();
        var activeWhenDone = (await cluster.StreamsAsync(key.Id))!.Active;
        using var afterwards = await cluster.Http(1).SendAsync(RawClient.Messages(secret, RawClient.Body(FakeAnthropicUpstream.Models.Text, stream: true)));

        // Assert
        Assert.Equal(2, running.Length);
        Assert.All(refused, r =>
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode);
            Assert.Equal("0", RawClient.Header(r, "x-qhaigc-streams-remaining"));
        });
        Assert.Equal(0, activeWhenDone);
        Assert.Equal(HttpStatusCode.OK, afterwards.StatusCode);
        foreach (var response in starts)
        {
            response.Dispose();
        }

        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task ChatCompletions_CarryOpenAisRateLimitHeaders_AndRefuseInOpenAisShape()
    {
        // Arrange
        var time = GatewayCluster.ClockAtSecond(30);
        await using var cluster = await GatewayCluster.StartAsync(1, time: time);
        var (secret, _) = await cluster.Environment.CreateKeyAsync(limits: """{"requestsPerMinute":1,"tokensPerMinute":100000}""");
        using var http = cluster.Http(0);
        const string body = """{"model":"fake-text","max_tokens":15,"messages":[{"role":"user","content":"Hello"}]}""";

        // Act
        using var first = await http.SendAsync(RawClient.Messages(secret, body, path: "v1/chat/completions"));
        using var second = await http.SendAsync(RawClient.Messages(secret, body, path: "v1/chat/completions"));

        // Assert
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("1", RawClient.Header(first, "x-ratelimit-limit-requests"));
        Assert.Equal("0", RawClient.Header(first, "x-ratelimit-remaining-requests"));
        Assert.Equal("30s", RawClient.Header(first, "x-ratelimit-reset-requests"));
        Assert.Equal("100000", RawClient.Header(first, "x-ratelimit-limit-tokens"));
        Assert.Null(RawClient.Header(first, "anthropic-ratelimit-requests-limit"));
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal("30", RawClient.Header(second, "retry-after"));
        var error = await second.Content.ReadAsStringAsync();
        Assert.Contains("\"error\":{\"message\":", error, StringComparison.Ordinal);
        Assert.Contains("\"type\":\"rate_limit_error\"", error, StringComparison.Ordinal);
    }
}
