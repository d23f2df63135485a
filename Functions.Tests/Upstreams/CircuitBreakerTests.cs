using System.Net;
using Microsoft.Extensions.Time.Testing;
using Qhaigc.Functions.Tests.Faults;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;
using Models = Qhaigc.Functions.Tests.TestDoubles.FakeAnthropicUpstream.Models;

namespace Qhaigc.Functions.Tests.Upstreams;

/// <summary>
/// A failing upstream is rested for a while rather than hammered (docs/faults.md): the circuit opens after consecutive
/// failures, calls skip it (to a fallback, or a fast retryable 529), and after the rest one probe decides.
/// </summary>
public sealed class CircuitBreakerTests
{
    private static readonly TimeSpan Rest = TimeSpan.FromSeconds(30);

    [Fact]
    public void CircuitBreaker_Opens_AfterThresholdConsecutiveFailures_AndRests()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var breaker = new CircuitBreaker(3, Rest, time);

        // Act
        var opened = new[] { breaker.RecordFailure(), breaker.RecordFailure(), breaker.RecordFailure() };
        var allowed = breaker.TryAcquire(out var retryAfter);

        // Assert
        Assert.Equal([false, false, true], opened);
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.False(allowed);
        Assert.Equal(Rest, retryAfter);
    }

    [Fact]
    public void CircuitBreaker_SuccessResetsTheCount()
    {
        // Arrange
        var breaker = new CircuitBreaker(2, Rest, new FakeTimeProvider());

        // Act: failures that are not consecutive never open it.
        breaker.RecordFailure();
        breaker.RecordSuccess();
        breaker.RecordFailure();

        // Assert
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.TryAcquire(out _));
    }

    [Fact]
    public void CircuitBreaker_AfterTheRest_LetsOneProbeThrough_AndItsSuccessCloses()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var breaker = new CircuitBreaker(1, Rest, time);
        breaker.RecordFailure();

        // Act
        time.Advance(Rest);
        var probe = breaker.TryAcquire(out _);
        var second = breaker.TryAcquire(out _);
        var closed = breaker.RecordSuccess();

        // Assert
        Assert.True(probe);
        Assert.False(second);
        Assert.True(closed);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.TryAcquire(out _));
    }

    [Fact]
    public void CircuitBreaker_FailedProbe_Reopens_ForAnotherRest()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var breaker = new CircuitBreaker(1, Rest, time);
        breaker.RecordFailure();
        time.Advance(Rest);
        Assert.True(breaker.TryAcquire(out _));

        // Act
        var reopened = breaker.RecordFailure();

        // Assert
        Assert.True(reopened);
        Assert.False(breaker.TryAcquire(out var retryAfter));
        Assert.Equal(Rest, retryAfter);
    }

    [Fact]
    public void CircuitBreaker_AbandonedProbe_FreesTheProbeSlot()
    {
        // Arrange: the probe's client went away before the upstream gave a verdict.
        var time = new FakeTimeProvider();
        var breaker = new CircuitBreaker(1, Rest, time);
        breaker.RecordFailure();
        time.Advance(Rest);
        Assert.True(breaker.TryAcquire(out _));

        // Act
        breaker.RecordAbandoned();

        // Assert
        Assert.True(breaker.TryAcquire(out _));
    }

    [Fact]
    public void CircuitBreaker_ThresholdZero_NeverOpens()
    {
        // Arrange
        var breaker = new CircuitBreaker(0, Rest, new FakeTimeProvider());

        // Act
        for (var i = 0; i < 100; i++)
        {
            breaker.RecordFailure();
        }

        // Assert
        Assert.True(breaker.TryAcquire(out _));
    }

    [Fact]
    public async Task Gateway_RestsAFailingUpstream_ThenProbes_AndClosesWhenItAnswers()
    {
        // Arrange: one upstream, opened by two consecutive failures, resting 1 s; one attempt per call.
        await using var arrangement = await FallbackArrangement.StartAsync(static s =>
        {
            s["Gateway:Resilience:MaxAttempts"] = "1";
            s["Gateway:Resilience:BreakerFailureThreshold"] = "2";
            s["Gateway:Resilience:BreakerDuration"] = "00:00:01";
        }, withBackup: false);
        var scenario = arrangement.Scenario;
        var upstream = arrangement.Primary;
        upstream.OutageStatus = 529;
        using var http = scenario.Http();

        // Act: two failures open the circuit; the third call is not sent.
        for (var i = 0; i < 2; i++)
        {
            using var failed = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text)));
            Assert.Equal(529, (int)failed.StatusCode);
        }

        using var rested = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text)));

        // Assert: a fast, retryable 529 with retry-after, and the upstream saw nothing.
        await GatewayAssert.ErrorAsync(rested, 529, "overloaded_error");
        Assert.Equal("true", RawClient.Header(rested, "x-should-retry"));
        Assert.Equal("1", RawClient.Header(rested, "retry-after"));
        Assert.Equal(2, upstream.MessageCalls);
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, RawClient.Header(rested, "request-id")!);
        Assert.Equal((UsageState.Failed, 529, (int?)null), (record.State, record.Status, record.UpstreamAttempts));

        // Act: the upstream recovers; calls go on until the rest is over and the probe gets through.
        upstream.OutageStatus = null;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        HttpStatusCode status;
        do
        {
            using var call = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text)));
            status = call.StatusCode;
            if (status != HttpStatusCode.OK)
            {
                await Task.Delay(100);
            }
        }
        while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline);

        using var after = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text)));

        // Assert: exactly one probe reached the upstream while it rested; then the circuit is closed.
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(4, upstream.MessageCalls);
    }

    [Fact]
    public async Task Gateway_SendsCallsStraightToTheFallback_WhileThePrimaryRests()
    {
        // Arrange: the primary is down; two failures open its circuit for 30 s.
        await using var arrangement = await FallbackArrangement.StartAsync(static s =>
        {
            s["Gateway:Resilience:BreakerFailureThreshold"] = "2";
            s["Gateway:Resilience:BreakerDuration"] = "00:00:30";
        });
        var scenario = arrangement.Scenario;
        arrangement.Primary.OutageStatus = 503;
        using var http = scenario.Http();

        // Act
        var attempts = new List<int?>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text, stream: i % 2 == 1)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            attempts.Add((await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, RawClient.Header(response, "request-id")!)).UpstreamAttempts);
        }

        // Assert: the first two calls tried the primary first; the rest went to the backup alone.
        Assert.Equal([2, 2, 1, 1, 1], attempts);
        Assert.Equal((2, 5), (arrangement.Primary.MessageCalls, arrangement.Backup.MessageCalls));
        Assert.Contains("circuit opened", scenario.Host.CapturedLogs, StringComparison.Ordinal);
    }
}
