using System.Diagnostics;
using System.Net;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;
using Models = Qhaigc.Functions.Tests.TestDoubles.FakeAnthropicUpstream.Models;

namespace Qhaigc.Functions.Tests.Faults;

/// <summary>
/// Retries and fallback (docs/faults.md): only before the first byte reached the client, with backoff, a bounded count and a
/// bounded added wait, <c>retry-after</c> honoured within its cap, and the next upstream tried when several serve the
/// model. One usage record per client call, naming the upstream that finally answered and the attempts made.
/// </summary>
public sealed class RetryAndFallbackTests
{
    [Fact]
    public async Task Retry_RecoversFromTransientOverload_BeforeTheFirstByte()
    {
        // Arrange: the only upstream answers 529 twice, then works.
        await using var arrangement = await FallbackArrangement.StartAsync(withBackup: false);
        var scenario = arrangement.Scenario;
        arrangement.Primary.FailuresLeft = 2;
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Flaky)));

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Fixtures.Bytes("Anthropic/text.json"), await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(3, arrangement.Primary.MessageCalls);
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, RawClient.Header(response, "request-id")!);
        Assert.Equal((UsageState.Complete, 200, 3, "anthropic"), (record.State, record.Status, record.UpstreamAttempts, record.Upstream));
        Assert.Single(await scenario.Environment.AllUsageAsync(scenario.Key.Id));
    }

    [Fact]
    public async Task Retry_RecoversFromResetBeforeTheFirstEvent_InAStream()
    {
        // Arrange: the stream's headers arrive, then the connection resets before any event; the second try works.
        await using var arrangement = await FallbackArrangement.StartAsync(withBackup: false);
        var scenario = arrangement.Scenario;
        arrangement.Primary.FailuresLeft = 1;
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.FlakyReset, stream: true)));

        // Assert: the client sees one clean stream, byte for byte.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Fixtures.Text("Anthropic/text.sse"), await response.Content.ReadAsStringAsync());
        Assert.Equal(2, arrangement.Primary.MessageCalls);
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, RawClient.Header(response, "request-id")!);
        Assert.Equal((UsageState.Complete, 2, 15L), (record.State, record.UpstreamAttempts, record.OutputTokens));
    }

    [Fact]
    public async Task Retry_HonoursAShortRetryAfter_ThenRelaysTheError()
    {
        // Arrange: 429 with retry-after 1 s (within the 2 s cap); two attempts in all.
        await using var arrangement = await FallbackArrangement.StartAsync(
            static s => s["Gateway:Resilience:MaxAttempts"] = "2", withBackup: false);
        var scenario = arrangement.Scenario;
        arrangement.Primary.OutageStatus = 429;
        arrangement.Primary.OutageRetryAfter = "1";
        using var http = scenario.Http();
        var clock = Stopwatch.StartNew();

        // Act
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text)));
        clock.Stop();

        // Assert: the second attempt waited what the upstream asked (not the 10 ms backoff), and the client gets the 429.
        Assert.Equal(429, (int)response.StatusCode);
        Assert.Equal("1", RawClient.Header(response, "retry-after"));
        Assert.Equal(2, arrangement.Primary.MessageCalls);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.95), $"answered after {clock.Elapsed}");
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, RawClient.Header(response, "request-id")!);
        Assert.Equal((UsageState.Failed, 429, 2), (record.State, record.Status, record.UpstreamAttempts));
    }

    [Fact]
    public async Task Retry_AddedWaitAndAttempts_AreBounded()
    {
        // Arrange: an upstream that always answers 529; many attempts allowed, but at most 1.5 s of added wait.
        await using var arrangement = await FallbackArrangement.StartAsync(static s =>
        {
            s["Gateway:Resilience:MaxAttempts"] = "20";
            s["Gateway:Resilience:FirstRetryDelay"] = "00:00:00.200";
            s["Gateway:Resilience:MaxRetryDelay"] = "00:00:01";
            s["Gateway:Resilience:MaxTotalDelay"] = "00:00:01.500";
            s["Gateway:Resilience:BreakerFailureThreshold"] = "0";
        }, withBackup: false);
        var scenario = arrangement.Scenario;
        arrangement.Primary.OutageStatus = 529;
        using var http = scenario.Http();
        var clock = Stopwatch.StartNew();

        // Act
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text)));
        clock.Stop();

        // Assert: backoff grew (0.1–0.2 s, 0.2–0.4 s, 0.4–0.8 s …) until the budget ran out, long before 20 attempts.
        Assert.Equal(529, (int)response.StatusCode);
        var calls = arrangement.Primary.MessageCalls;
        Assert.InRange(calls, 3, 6);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"answered after {clock.Elapsed}");
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, RawClient.Header(response, "request-id")!);
        Assert.Equal(calls, record.UpstreamAttempts);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Fallback_NextUpstreamAnswers_WhenThePrimaryFails(bool stream, bool unreachable)
    {
        // Arrange: the primary is overloaded (529) or not listening at all; the backup works.
        var deadPort = FreePort.Next();
        await using var arrangement = await FallbackArrangement.StartAsync(s =>
        {
            if (unreachable)
            {
                s["Gateway:Upstreams:anthropic:BaseUrl"] = $"http://127.0.0.1:{deadPort}/";
            }
        });
        var scenario = arrangement.Scenario;
        arrangement.Primary.OutageStatus = 529;
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text, stream)));
        var body = await response.Content.ReadAsStringAsync();

        // Assert: one answer, from the backup; one record naming it.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Fixtures.Text(stream ? "Anthropic/text.sse" : "Anthropic/text.json"), body);
        Assert.Equal(1, arrangement.Backup.MessageCalls);
        Assert.Equal(unreachable ? 0 : 1, arrangement.Primary.MessageCalls);
        var record = Assert.Single(await WaitForRecordsAsync(scenario, 1));
        Assert.Equal((UsageState.Complete, "backup", 2, 15L), (record.State, record.Upstream, record.UpstreamAttempts, record.OutputTokens));
    }

    [Fact]
    public async Task NoRetry_AfterTheFirstByteReachedTheClient()
    {
        // Arrange: the primary fails mid-stream; a working backup is there, but the answer has already started.
        await using var arrangement = await FallbackArrangement.StartAsync();
        var scenario = arrangement.Scenario;
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Cut, stream: true)));
        var events = Fixtures.ParseEvents(await response.Content.ReadAsStringAsync());

        // Assert
        Assert.Equal(["message_start", "content_block_start", "ping", "error"], events.Select(static e => e.Event));
        Assert.Equal((1, 0), (arrangement.Primary.MessageCalls, arrangement.Backup.MessageCalls));
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, RawClient.Header(response, "request-id")!);
        Assert.Equal((UsageState.Truncated, "anthropic", 1), (record.State, record.Upstream, record.UpstreamAttempts));
    }

    internal static async Task<List<UsageRecord>> WaitForRecordsAsync(GatewayScenario scenario, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var records = await scenario.Environment.AllUsageAsync(scenario.Key.Id);
            if (records.Count >= count || DateTime.UtcNow > deadline)
            {
                Assert.Equal(count, records.Count);
                return records;
            }

            await Task.Delay(50);
        }
    }
}
