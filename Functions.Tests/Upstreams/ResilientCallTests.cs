using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Upstreams;

/// <summary>
/// How an upstream answer starts (<see cref="ResilientUpstreamCaller.StartAsync"/>), in-process over scripted
/// upstreams: retries and fallbacks before the first event, none after the client's answer committed, and every
/// response that is not handed on released (docs/faults.md).
/// </summary>
public sealed class ResilientCallTests
{
    private const string Model = MessagesRequests.Model;
    private const string MessageStart = """{"type":"message_start","message":{"id":"msg_1","model":"claude-test","usage":{"input_tokens":3,"output_tokens":1}}}""";
    private const string OverloadedEvent = """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""";
    private const string InvalidRequestEvent = """{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long"}}""";
    private static readonly TimeSpan FirstEventTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);

    private readonly FakeTimeProvider _time = new();
    private readonly CallRecorder _call;

    public ResilientCallTests() => _call = new CallRecorder(new RecordingUsageSink(), "req_test", "key", "messages", _time.GetUtcNow(), Stopwatch.GetTimestamp());

    [Fact]
    public async Task StartAsync_ReturnsStreamingWithTheFirstEvent_WhenItIsHere()
    {
        // Arrange
        var upstream = new ScriptedUpstream("primary").Stream(Started());
        using var request = MessagesRequests.Create();

        // Act
        var start = await Caller().StartAsync([new UpstreamRoute(upstream, "upstream-model")], request, _call, new WaitClock(), CancellationToken.None);

        // Assert: the first event is handed over with the response, which stays open for the rest.
        Assert.Equal(UpstreamStartOutcome.Streaming, start.Outcome);
        Assert.Equal("message_start", start.FirstEvent!.Value.EventType);
        Assert.Equal(MessageStart, Encoding.UTF8.GetString(start.FirstEvent.Value.Data.Span));
        Assert.Same(upstream.Streams[0], start.Response!.Events);
        Assert.False(upstream.Streams[0].Disposed);
        Assert.Equal(["upstream-model"], upstream.UpstreamModels);
        Assert.Equal(("primary", "upstream-model", "req_primary_1", 1), (_call.Upstream, _call.UpstreamModel, _call.UpstreamRequestId, _call.UpstreamAttempts));
    }

    [Fact]
    public async Task StartAsync_ReturnsTheMessage_WhenTheRequestDoesNotStream()
    {
        // Arrange
        var upstream = new ScriptedUpstream().Message("""{"type":"message"}""");
        using var request = MessagesRequests.Create(stream: false);

        // Act
        var start = await Caller().StartAsync([new UpstreamRoute(upstream, Model)], request, _call, null, CancellationToken.None);

        // Assert
        Assert.Equal(UpstreamStartOutcome.Message, start.Outcome);
        Assert.Equal("""{"type":"message"}""", Encoding.UTF8.GetString(start.Response!.Body!));
        Assert.Null(start.FirstEvent);
    }

    [Fact]
    public async Task StartAsync_TriesAgain_WhenTheFirstEventIsARetryableError()
    {
        // Arrange: the upstream's first stream opens with an overloaded error event, its second starts.
        var upstream = new ScriptedUpstream("primary")
            .Stream(new ScriptedEvents().Event("error", OverloadedEvent))
            .Stream(Started());
        using var request = MessagesRequests.Create();

        // Act
        var start = await _time.AdvanceUntilAsync(
            Caller().StartAsync([new UpstreamRoute(upstream, Model)], request, _call, null, CancellationToken.None), Step);

        // Assert: the second stream is the answer, the first one is released, and the record counts both attempts.
        Assert.Equal(UpstreamStartOutcome.Streaming, start.Outcome);
        Assert.Same(upstream.Streams[1], start.Response!.Events);
        Assert.True(upstream.Streams[0].Disposed);
        Assert.False(upstream.Streams[1].Disposed);
        Assert.Equal(2, _call.UpstreamAttempts);
        Assert.Equal("req_primary_2", _call.UpstreamRequestId);
    }

    [Fact]
    public async Task StartAsync_FallsBackToTheNextUpstream_WithoutWaiting()
    {
        // Arrange: the primary is overloaded; the fallback knows the model by another name.
        var primary = new ScriptedUpstream("primary").Error(529, ErrorTypes.Overloaded);
        var fallback = new ScriptedUpstream("fallback").Stream(Started());
        using var request = MessagesRequests.Create();
        var before = _time.GetUtcNow();

        // Act: no time is advanced, so any backoff would hang the call.
        var start = await Caller().StartAsync(
            [new UpstreamRoute(primary, "primary-model"), new UpstreamRoute(fallback, "fallback-model")], request, _call, null, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(10));

        // Assert: the record names the upstream that answered.
        Assert.Equal(UpstreamStartOutcome.Streaming, start.Outcome);
        Assert.Equal(before, _time.GetUtcNow());
        Assert.Equal(("fallback", "fallback-model", "req_fallback_1", 2), (_call.Upstream, _call.UpstreamModel, _call.UpstreamRequestId, _call.UpstreamAttempts));
    }

    [Fact]
    public async Task StartAsync_FailsWithTheRetryAfter_WhenEveryAttemptIsOverloaded()
    {
        // Arrange: every attempt answers 529 and asks for one second, within MaxRetryAfter (2 s by default).
        var upstream = new ScriptedUpstream()
            .Error(529, ErrorTypes.Overloaded, retryAfterSeconds: 1)
            .Error(529, ErrorTypes.Overloaded, retryAfterSeconds: 1)
            .Error(529, ErrorTypes.Overloaded, retryAfterSeconds: 1);
        using var request = MessagesRequests.Create();
        var before = _time.GetUtcNow();

        // Act
        var start = await _time.AdvanceUntilAsync(
            Caller().StartAsync([new UpstreamRoute(upstream, Model)], request, _call, null, CancellationToken.None), Step);

        // Assert: three attempts, a second's wait before each retry, and the client told how long to wait.
        Assert.Equal(UpstreamStartOutcome.Failed, start.Outcome);
        Assert.Equal((529, ErrorTypes.Overloaded, 1d), (start.Error!.Status, start.Error.Type, start.Error.RetryAfterSeconds));
        Assert.Equal(3, upstream.Calls);
        Assert.Equal(3, _call.UpstreamAttempts);
        Assert.True(_time.GetUtcNow() - before >= TimeSpan.FromSeconds(2), $"waited {_time.GetUtcNow() - before}");
    }

    [Fact]
    public async Task StartAsync_FailsAtOnce_WhenTheRetryAfterIsLongerThanTheGatewayWaits()
    {
        // Arrange: the upstream asks for a minute; waiting it out is the client's business.
        var upstream = new ScriptedUpstream().Error(429, ErrorTypes.RateLimit, retryAfterSeconds: 60);
        using var request = MessagesRequests.Create();

        // Act
        var start = await Caller().StartAsync([new UpstreamRoute(upstream, Model)], request, _call, null, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Equal((429, 60d), (start.Error!.Status, start.Error.RetryAfterSeconds));
        Assert.Equal(1, upstream.Calls);
    }

    [Fact]
    public async Task StartAsync_FailsWithoutAnotherAttempt_WhenTheFirstEventIsTheClientsError()
    {
        // Arrange: a second attempt is scripted, and must not be made.
        var upstream = new ScriptedUpstream()
            .Stream(new ScriptedEvents().Event("error", InvalidRequestEvent))
            .Stream(Started());
        using var request = MessagesRequests.Create();

        // Act
        var start = await Caller().StartAsync([new UpstreamRoute(upstream, Model)], request, _call, null, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Equal(UpstreamStartOutcome.Failed, start.Outcome);
        Assert.Equal((400, ErrorTypes.InvalidRequest, "prompt is too long"), (start.Error!.Status, start.Error.Type, start.Error.Message));
        Assert.Equal(1, upstream.Calls);
        Assert.True(upstream.Streams[0].Disposed);
    }

    [Fact]
    public async Task StartAsync_FailsWithoutAnotherAttempt_WhenTheUpstreamAnswersTheClientsError()
    {
        // Arrange
        var upstream = new ScriptedUpstream().Error(400, ErrorTypes.InvalidRequest).Stream(Started());
        using var request = MessagesRequests.Create();

        // Act
        var start = await Caller().StartAsync([new UpstreamRoute(upstream, Model)], request, _call, null, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Equal((UpstreamStartOutcome.Failed, 400), (start.Outcome, start.Error!.Status));
        Assert.Equal(1, upstream.Calls);
    }

    [Fact]
    public async Task StartAsync_ReportsWaiting_WhenTheFirstEventIsSlowerThanTheTimeout_ThenStreams()
    {
        // Arrange: the stream's headers are in, its first event is not.
        var firstEvent = new TaskCompletionSource();
        var upstream = new ScriptedUpstream().Stream(new ScriptedEvents().WaitFor(firstEvent.Task).Event("message_start", MessageStart));
        using var request = MessagesRequests.Create();

        // Act
        var start = await _time.AdvanceUntilAsync(
            Caller().StartAsync([new UpstreamRoute(upstream, Model)], request, _call, null, CancellationToken.None), TimeSpan.FromSeconds(1));

        // Assert: Waiting, the start still undecided; once the event comes, the start is Streaming with it.
        Assert.Equal(UpstreamStartOutcome.Waiting, start.Outcome);
        Assert.False(start.Later!.IsCompleted);
        firstEvent.SetResult();
        var later = await start.Later.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(UpstreamStartOutcome.Streaming, later.Outcome);
        Assert.Equal(MessageStart, Encoding.UTF8.GetString(later.FirstEvent!.Value.Data.Span));
        Assert.Same(upstream.Streams[0], later.Response!.Events);
        Assert.False(upstream.Streams[0].Disposed);
    }

    [Fact]
    public async Task StartAsync_ReturnsStreaming_WhenTheFirstEventComesWithinTheTimeout()
    {
        // Arrange
        var firstEvent = new TaskCompletionSource();
        var events = new ScriptedEvents().WaitFor(firstEvent.Task).Event("message_start", MessageStart);
        var upstream = new ScriptedUpstream().Stream(events);
        using var request = MessagesRequests.Create();

        // Act: the event comes a second before the timeout.
        var starting = Caller().StartAsync([new UpstreamRoute(upstream, Model)], request, _call, null, CancellationToken.None);
        await events.Waiting.WaitAsync(TimeSpan.FromSeconds(10));
        _time.Advance(FirstEventTimeout - TimeSpan.FromSeconds(1));
        firstEvent.SetResult();
        var start = await starting.WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Equal(UpstreamStartOutcome.Streaming, start.Outcome);
    }

    [Fact]
    public async Task StartAsync_DoesNotRetry_WhenTheAttemptFailsAfterWaiting()
    {
        // Arrange: the slow stream then opens with a retryable error; a good second stream is scripted and must stay unused.
        var firstEvent = new TaskCompletionSource();
        var upstream = new ScriptedUpstream()
            .Stream(new ScriptedEvents().WaitFor(firstEvent.Task).Event("error", OverloadedEvent))
            .Stream(Started());
        using var request = MessagesRequests.Create();
        var start = await _time.AdvanceUntilAsync(
            Caller().StartAsync([new UpstreamRoute(upstream, Model)], request, _call, null, CancellationToken.None), TimeSpan.FromSeconds(1));
        Assert.Equal(UpstreamStartOutcome.Waiting, start.Outcome);

        // Act
        firstEvent.SetResult();
        var later = await start.Later!.WaitAsync(TimeSpan.FromSeconds(10));

        // Assert: the client's 200 is out, so the error is the answer, after one attempt.
        Assert.Equal(UpstreamStartOutcome.Failed, later.Outcome);
        Assert.Equal((529, ErrorTypes.Overloaded), (later.Error!.Status, later.Error.Type));
        Assert.Equal(1, upstream.Calls);
        Assert.Equal(1, _call.UpstreamAttempts);
        Assert.True(upstream.Streams[0].Disposed);
    }

    [Fact]
    public async Task StartAsync_ReportsClientGone_WhenTheClientLeavesWhileTheFirstEventIsAwaited()
    {
        // Arrange
        using var aborted = new CancellationTokenSource();
        var events = new ScriptedEvents().WaitFor(new TaskCompletionSource().Task).Event("message_start", MessageStart);
        var upstream = new ScriptedUpstream().Stream(events).Stream(Started());
        using var request = MessagesRequests.Create();
        var starting = Caller().StartAsync([new UpstreamRoute(upstream, Model)], request, _call, null, aborted.Token);
        await events.Waiting.WaitAsync(TimeSpan.FromSeconds(10));

        // Act
        await aborted.CancelAsync();
        var start = await starting.WaitAsync(TimeSpan.FromSeconds(10));

        // Assert: no further attempt, and the attempt's response is released.
        Assert.Equal(UpstreamStartOutcome.ClientGone, start.Outcome);
        Assert.True(events.Disposed);
        Assert.Equal(1, upstream.Calls);
    }

    [Fact]
    public async Task StartAsync_ReportsClientGoneLater_WhenTheClientLeavesAfterWaiting()
    {
        // Arrange
        using var aborted = new CancellationTokenSource();
        var events = new ScriptedEvents().WaitFor(new TaskCompletionSource().Task).Event("message_start", MessageStart);
        var upstream = new ScriptedUpstream().Stream(events);
        using var request = MessagesRequests.Create();
        var start = await _time.AdvanceUntilAsync(
            Caller().StartAsync([new UpstreamRoute(upstream, Model)], request, _call, null, aborted.Token), TimeSpan.FromSeconds(1));
        Assert.Equal(UpstreamStartOutcome.Waiting, start.Outcome);

        // Act
        await aborted.CancelAsync();
        var later = await start.Later!.WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Equal(UpstreamStartOutcome.ClientGone, later.Outcome);
        Assert.True(events.Disposed);
    }

    [Fact]
    public async Task StartAsync_ReleasesEveryResponseItDoesNotReturn()
    {
        // Arrange: four failures of a stream before its first event, each worth another attempt, then a stream that starts.
        var upstream = new ScriptedUpstream()
            .Stream(new ScriptedEvents())
            .Stream(new ScriptedEvents().Fail(new IOException("connection reset")))
            .Stream(new ScriptedEvents().Fail(new UpstreamProtocolException("not JSON")))
            .Stream(new ScriptedEvents().Event("error", OverloadedEvent))
            .Stream(Started());
        using var request = MessagesRequests.Create();

        // Act
        var start = await _time.AdvanceUntilAsync(
            Caller(static o => o.MaxAttempts = 5).StartAsync([new UpstreamRoute(upstream, Model)], request, _call, null, CancellationToken.None), Step);

        // Assert
        Assert.Equal(UpstreamStartOutcome.Streaming, start.Outcome);
        Assert.Equal([true, true, true, true, false], upstream.Streams.Select(static s => s.Disposed));
        Assert.Same(upstream.Streams[4], start.Response!.Events);
        Assert.Equal(5, _call.UpstreamAttempts);
    }

    [Fact]
    public async Task StartAsync_ReleasesTheLastResponse_WhenItGivesUp()
    {
        // Arrange
        var upstream = new ScriptedUpstream()
            .Stream(new ScriptedEvents().Fail(new IOException("connection reset")))
            .Stream(new ScriptedEvents().Fail(new IOException("connection reset")));
        using var request = MessagesRequests.Create();

        // Act
        var start = await _time.AdvanceUntilAsync(
            Caller(static o => o.MaxAttempts = 2).StartAsync([new UpstreamRoute(upstream, Model)], request, _call, null, CancellationToken.None), Step);

        // Assert
        Assert.Equal((UpstreamStartOutcome.Failed, 529), (start.Outcome, start.Error!.Status));
        Assert.IsType<IOException>(start.Failure);
        Assert.All(upstream.Streams, static s => Assert.True(s.Disposed));
    }

    [Fact]
    public async Task StartAsync_ChargesTheWaitForTheFirstEvent_Once()
    {
        // Arrange: the first event comes 300 ms after the headers.
        var upstream = new ScriptedUpstream().Stream(new ScriptedEvents().WaitFor(Task.Delay(300)).Event("message_start", MessageStart));
        using var request = MessagesRequests.Create();
        var clock = new WaitClock();

        // Act
        var started = Stopwatch.GetTimestamp();
        var start = await Caller().StartAsync([new UpstreamRoute(upstream, Model)], request, _call, clock, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(10));
        var elapsed = Stopwatch.GetElapsedTime(started);

        // Assert: the wait is the upstream's, and counted once (never more than the time that passed).
        Assert.Equal(UpstreamStartOutcome.Streaming, start.Outcome);
        var waited = Waited(clock);
        Assert.True(waited >= TimeSpan.FromMilliseconds(280), $"waited {waited}");
        Assert.True(waited <= elapsed, $"waited {waited} of {elapsed}");
    }

    [Fact]
    public async Task StartAsync_ChargesNothing_WhenTheFirstEventIsAlreadyHere()
    {
        // Arrange
        var upstream = new ScriptedUpstream().Stream(Started());
        using var request = MessagesRequests.Create();
        var clock = new WaitClock();

        // Act
        await Caller().StartAsync([new UpstreamRoute(upstream, Model)], request, _call, clock, CancellationToken.None);

        // Assert: reading an event that came with the headers is the gateway's own work.
        Assert.Equal(0, clock.Ticks);
    }

    [Fact]
    public async Task StartAsync_StillServesTheUpstreamsOtherModels_WhenOneModelKeepsAnsweringOverloaded()
    {
        // Arrange: five calls to the busy model, each answered 529 (the breaker's threshold), then one to another model.
        var upstream = new ScriptedUpstream("shared");
        for (var i = 0; i < 5; i++)
        {
            upstream.Error(529, ErrorTypes.Overloaded);
        }

        upstream.Message("""{"type":"message"}""");
        var caller = Caller(static o => o.MaxAttempts = 1);
        using var request = MessagesRequests.Create(stream: false);
        for (var i = 0; i < 5; i++)
        {
            await caller.StartAsync([new UpstreamRoute(upstream, "busy-model")], request, NewCall(), null, CancellationToken.None);
        }

        // Act
        var other = await caller.StartAsync([new UpstreamRoute(upstream, "quiet-model")], request, NewCall(), null, CancellationToken.None);
        var busy = await caller.StartAsync([new UpstreamRoute(upstream, "busy-model")], request, NewCall(), null, CancellationToken.None);

        // Assert: the other model is answered; only the busy one rests, answered without an attempt.
        Assert.Equal(UpstreamStartOutcome.Message, other.Outcome);
        Assert.Equal((UpstreamStartOutcome.Failed, 529), (busy.Outcome, busy.Error!.Status));
        Assert.Equal(6, upstream.Calls);
    }

    [Fact]
    public async Task StartAsync_RestsTheWholeDeployment_WhenItKeepsBeingUnreachable()
    {
        // Arrange: five calls that cannot reach the upstream.
        var upstream = new ScriptedUpstream("down");
        for (var i = 0; i < 5; i++)
        {
            upstream.Answers(static _ => Task.FromResult(UpstreamResponse.Unreached(
                ApiError.From(ApiErrorKind.UpstreamUnavailable, "The upstream could not be reached."))));
        }

        var caller = Caller(static o => o.MaxAttempts = 1);
        using var request = MessagesRequests.Create(stream: false);
        for (var i = 0; i < 5; i++)
        {
            await caller.StartAsync([new UpstreamRoute(upstream, "model-a")], request, NewCall(), null, CancellationToken.None);
        }

        // Act
        var other = await caller.StartAsync([new UpstreamRoute(upstream, "model-b")], request, NewCall(), null, CancellationToken.None);

        // Assert: a transport failure is the deployment's, so its other models rest too.
        Assert.Equal((UpstreamStartOutcome.Failed, 529), (other.Outcome, other.Error!.Status));
        Assert.Equal(5, upstream.Calls);
    }

    [Theory]
    [InlineData(401, ErrorTypes.Authentication)]
    [InlineData(402, ErrorTypes.Billing)]
    [InlineData(403, ErrorTypes.Permission)]
    public async Task StartAsync_NeverRelaysARefusalOfTheGatewaysCredentials_AndTakesTheUpstreamOutForEveryModel(int status, string type)
    {
        // Arrange
        var upstream = new ScriptedUpstream("revoked").Error(status, type);
        var caller = Caller();
        using var request = MessagesRequests.Create(stream: false);

        // Act
        var first = await caller.StartAsync([new UpstreamRoute(upstream, "model-a")], request, NewCall(), null, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(10));
        var other = await caller.StartAsync([new UpstreamRoute(upstream, "model-b")], request, NewCall(), null, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(10));

        // Assert: a retryable 503 that says nothing of keys, and no second attempt on the refusing upstream for any model.
        foreach (var start in new[] { first, other })
        {
            Assert.Equal(UpstreamStartOutcome.Failed, start.Outcome);
            Assert.Equal((503, ErrorTypes.Api), (start.Error!.Status, start.Error.Type));
            Assert.True(start.Error.ShouldRetry);
            Assert.DoesNotContain("Scripted", start.Error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(1, upstream.Calls);
    }

    [Fact]
    public async Task StartAsync_NeverRelaysACredentialErrorEvent_AsTheStreamsStart()
    {
        // Arrange: the refusal arrives as the stream's first event.
        var upstream = new ScriptedUpstream("revoked")
            .Stream(new ScriptedEvents().Event("error", """{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"""));
        using var request = MessagesRequests.Create();

        // Act
        var start = await Caller().StartAsync([new UpstreamRoute(upstream, Model)], request, _call, null, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Equal((UpstreamStartOutcome.Failed, 503, ErrorTypes.Api), (start.Outcome, start.Error!.Status, start.Error.Type));
        Assert.True(upstream.Streams[0].Disposed);
    }

    [Fact]
    public async Task StartAsync_AnswersFromTheNextMember_WhenOneRefusesTheGatewaysCredentials()
    {
        // Arrange
        var revoked = new ScriptedUpstream("revoked").Error(401, ErrorTypes.Authentication);
        var healthy = new ScriptedUpstream("healthy").Message("""{"type":"message"}""").Message("""{"type":"message"}""");
        var caller = Caller();
        using var request = MessagesRequests.Create(stream: false);
        UpstreamRoute[] routes = [new(revoked, Model), new(healthy, Model)];

        // Act
        var first = await caller.StartAsync(routes, request, _call, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        var second = await caller.StartAsync(routes, request, NewCall(), null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        // Assert: the first call falls back at once, the next one skips the refusing member.
        Assert.Equal((UpstreamStartOutcome.Message, UpstreamStartOutcome.Message), (first.Outcome, second.Outcome));
        Assert.Equal(("healthy", 2), (_call.Upstream, _call.UpstreamAttempts));
        Assert.Equal((1, 2), (revoked.Calls, healthy.Calls));
    }

    [Fact]
    public async Task StartAsync_SkipsAMemberRestingAfterA429_UntilItsRetryAfterIsOver()
    {
        // Arrange: the first member asks for 30 s.
        var limited = new ScriptedUpstream("limited").Error(429, ErrorTypes.RateLimit, retryAfterSeconds: 30).Message("""{"type":"message"}""");
        var other = new ScriptedUpstream("other").Message("""{"type":"message"}""").Message("""{"type":"message"}""");
        var caller = Caller();
        using var request = MessagesRequests.Create(stream: false);
        UpstreamRoute[] routes = [new(limited, Model), new(other, Model)];

        // Act
        await caller.StartAsync(routes, request, NewCall(), null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        await caller.StartAsync(routes, request, NewCall(), null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        var whileResting = (limited.Calls, other.Calls);
        _time.Advance(TimeSpan.FromSeconds(31));
        var after = await caller.StartAsync(routes, request, _call, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        // Assert: no call reached the resting member until its time was up; then it serves again.
        Assert.Equal((1, 2), whileResting);
        Assert.Equal(UpstreamStartOutcome.Message, after.Outcome);
        Assert.Equal(("limited", 2), (_call.Upstream, limited.Calls));
    }

    [Fact]
    public async Task StartAsync_AnswersA429WithoutAnAttempt_WhileTheOnlyMemberRestsForItsRateLimit()
    {
        // Arrange
        var limited = new ScriptedUpstream("limited").Error(429, ErrorTypes.RateLimit, retryAfterSeconds: 30);
        var caller = Caller();
        using var request = MessagesRequests.Create(stream: false);
        await caller.StartAsync([new UpstreamRoute(limited, Model)], request, NewCall(), null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        // Act
        var start = await caller.StartAsync([new UpstreamRoute(limited, Model)], request, _call, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Equal((429, ErrorTypes.RateLimit, 30d), (start.Error!.Status, start.Error.Type, start.Error.RetryAfterSeconds));
        Assert.Equal(1, limited.Calls);
    }

    [Fact]
    public async Task StartAsync_SkipsAMemberForAModel_WhileItsRateLimitHeadersSayItIsUsedUp()
    {
        // Arrange: the first member's answer says its requests are used up for 20 s.
        var reset = _time.GetUtcNow().AddSeconds(20);
        var usedUp = new RateLimitHeadroom(_time.GetUtcNow(), 0, reset, 50_000, reset, null, null, null, null);
        var busy = new ScriptedUpstream("busy")
            .Answers(_ => Task.FromResult(UpstreamResponse.Message("""{"type":"message"}"""u8.ToArray()).WithRateLimit(usedUp)))
            .Message("""{"type":"message"}""");
        var other = new ScriptedUpstream("other").Message("""{"type":"message"}""");
        var caller = Caller();
        using var request = MessagesRequests.Create(stream: false);
        UpstreamRoute[] routes = [new(busy, Model), new(other, Model)];

        // Act
        await caller.StartAsync(routes, request, NewCall(), null, CancellationToken.None);
        await caller.StartAsync(routes, request, NewCall(), null, CancellationToken.None);
        var whileUsedUp = (busy.Calls, other.Calls);
        _time.Advance(TimeSpan.FromSeconds(21));
        await caller.StartAsync(routes, request, NewCall(), null, CancellationToken.None);

        // Assert
        Assert.Equal((1, 1), whileUsedUp);
        Assert.Equal(2, busy.Calls);
    }

    private CallRecorder NewCall() => new(new RecordingUsageSink(), "req_other", "key", "messages", _time.GetUtcNow(), Stopwatch.GetTimestamp());

    private static ScriptedEvents Started() => new ScriptedEvents().Event("message_start", MessageStart).Event("message_stop", """{"type":"message_stop"}""");

    private static TimeSpan Waited(WaitClock clock) => TimeSpan.FromSeconds(clock.Ticks / (double)Stopwatch.Frequency);

    private ResilientUpstreamCaller Caller(Action<ResilienceOptions>? resilience = null)
    {
        var options = new GatewayOptions { Streaming = { FirstEventTimeout = FirstEventTimeout } };
        resilience?.Invoke(options.Resilience);
        var wrapped = Options.Create(options);
        return new ResilientUpstreamCaller(new UpstreamHealth(wrapped, _time, NullLogger<UpstreamHealth>.Instance), _time, wrapped, NullLogger<ResilientUpstreamCaller>.Instance);
    }
}
