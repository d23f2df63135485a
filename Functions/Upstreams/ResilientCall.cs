using System.Diagnostics;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Protocol.Sse;
using Qhaigc.Functions.Telemetry;
using Qhaigc.Functions.Usage;
using Log = Qhaigc.Functions.Upstreams.ResilientUpstreamCaller.Log;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// One client call's attempts, for <see cref="ResilientUpstreamCaller"/>: which upstream is next, how often each was
/// tried, how much of the wait budget is spent, and, for a stream, whether its first event came. Its
/// <see cref="StartAsync"/> is the one stage that decides how an upstream answer starts (docs/architecture.md).
/// </summary>
internal sealed class ResilientCall(
    ResilientUpstreamCaller caller,
    IReadOnlyList<UpstreamRoute> routes,
    MessagesRequest request,
    CallRecorder call,
    WaitClock? waits,
    CancellationToken aborted)
{
    private readonly int[] _tries = new int[routes.Count];
    private int _attempts;
    private int _cursor;
    private int _lastIndex = -1;
    private TimeSpan _waited;

    /// <summary>The client span of the attempt in flight (null without telemetry), ended by its verdict or the call's end.</summary>
    private Activity? _attemptSpan;

    private TimeSpan _firstEventTimeout;

    /// <summary>When a stream's first event is due at the latest, set when the first stream's headers are in.</summary>
    private DateTimeOffset? _firstEventDue;

    /// <summary>The breaker of the upstream of the latest attempt.</summary>
    public CircuitBreaker? Breaker { get; private set; }

    public string? Upstream => _lastIndex < 0 ? null : routes[_lastIndex].Upstream.Name;

    /// <summary>
    /// Attempts until a whole answer, a stream with its first event, an error that is not worth another attempt, or
    /// the end of the budget. A stream whose first event takes longer than <paramref name="firstEventTimeout"/> (from
    /// the moment the first stream's headers are in) is reported as <see cref="UpstreamStartOutcome.Waiting"/> so the
    /// client's response can commit and keep alive meanwhile. A first event that came with the headers costs no timer.
    /// </summary>
    public Task<UpstreamStart> StartAsync(TimeSpan firstEventTimeout)
    {
        _firstEventTimeout = firstEventTimeout;
        return AttemptAsync();
    }

    private async Task<UpstreamStart> AttemptAsync()
    {
        ApiError? last = null;
        Exception? lastException = null;
        while (true)
        {
            UpstreamResponse? response;
            try
            {
                response = await NextAttemptAsync(last?.RetryAfterSeconds);
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                return UpstreamStart.ClientGone;
            }

            if (response is null)
            {
                GaveUp(last is null ? "no attempt possible" : $"{last.Status} {last.Type}");
                return UpstreamStart.Failed(last ?? Resting(), lastException);
            }

            if (response.Error is { } error)
            {
                await response.DisposeAsync();
                if (!ResilientUpstreamCaller.IsRetryable(error.Status))
                {
                    // The client's own error (a 400, say): the upstream works.
                    Succeeded();
                    return UpstreamStart.Failed(error);
                }

                Failed($"{error.Status} {error.Type}", error.Type);
                last = error;
                lastException = null;
                continue;
            }

            if (response.Events is null)
            {
                Succeeded();
                return new UpstreamStart(UpstreamStartOutcome.Message, response);
            }

            var (first, failure) = await FirstEventAsync(response);
            if (failure is null)
            {
                // Started, waiting past the first-event timeout, refused by an error the client caused, or the client
                // is gone: nothing to try again.
                return first;
            }

            Failed(failure, ErrorTypeOf(first));

            last = first.Error;
            lastException = first.Failure;
        }
    }

    /// <summary>
    /// Reads a stream attempt's first event: it starts the answer, unless the stream ended, failed or was unreadable
    /// before it, or it is an <c>error</c> event; an error the client caused ends the attempts as it is, any other
    /// failure is one more reason to try again. The attempt's response is disposed unless it started.
    /// </summary>
    private async Task<(UpstreamStart Start, string? Failure)> FirstEventAsync(UpstreamResponse response)
    {
        ValueTask<bool> move;
        try
        {
            move = response.Events!.MoveNextAsync();
        }
        catch (Exception exception)
        {
            move = ValueTask.FromException<bool>(exception);
        }

        if (move.IsCompleted)
        {
            // Already in (usually with the headers): reading it was the gateway's own work.
            return await ClassifyAsync(response, move);
        }

        var waitStart = Stopwatch.GetTimestamp();
        var read = move.AsTask();
        _firstEventDue ??= caller.Time.GetUtcNow() + _firstEventTimeout;
        var remaining = _firstEventDue.Value - caller.Time.GetUtcNow();
        if (remaining > TimeSpan.Zero)
        {
            await Task.WhenAny(read, Task.Delay(remaining, caller.Time, aborted));
        }

        if (read.IsCompleted || aborted.IsCancellationRequested)
        {
            // The first event (or the failure) came in time; a client that left ends the read through its token.
            try
            {
                return await ClassifyAsync(response, new ValueTask<bool>(read));
            }
            finally
            {
                waits?.AddSince(waitStart);
            }
        }

        // The client's 200 goes out now, with keep-alives: charge the wait up to here, and make no attempt after it.
        waits?.AddSince(waitStart);
        return (new UpstreamStart(UpstreamStartOutcome.Waiting, Later: LaterAsync(response, read)), null);
    }

    /// <summary>How a start reported as waiting ends: the pending read decides, with no attempt after it.</summary>
    private async Task<UpstreamStart> LaterAsync(UpstreamResponse response, Task<bool> read)
    {
        var (start, failure) = await ClassifyAsync(response, new ValueTask<bool>(read));
        if (failure is not null)
        {
            Failed(failure, ErrorTypeOf(start));
            GaveUp(failure);
        }

        return start;
    }

    /// <summary>
    /// Classifies a stream attempt's first read: its first event starts the answer, unless the stream ended, failed or
    /// was unreadable before it, or it is an <c>error</c> event; an error the client caused ends the attempts as it is
    /// (no failure to retry), any other failure is one more reason to try again. The response is disposed unless it
    /// started.
    /// </summary>
    private async Task<(UpstreamStart Start, string? Failure)> ClassifyAsync(UpstreamResponse response, ValueTask<bool> move)
    {
        var events = response.Events!;
        UpstreamStart failed;
        string? description;
        try
        {
            if (!await move)
            {
                description = "empty stream";
                failed = UpstreamStart.Failed(ApiError.From(ApiErrorKind.UpstreamUnavailable, "The upstream closed the stream without an answer."));
            }
            else if (events.Current.EventType != EventNames.Error)
            {
                Succeeded();
                return (new UpstreamStart(UpstreamStartOutcome.Streaming, response, events.Current), null);
            }
            else
            {
                var error = UpstreamErrorText.FromErrorEvent(events.Current.Data);
                description = "error event " + error.Type;
                if (!ResilientUpstreamCaller.IsRetryable(error.Status))
                {
                    // An error the client caused, as the upstream sent it: the upstream works, and no attempt follows.
                    Succeeded();
                    description = null;
                }

                failed = UpstreamStart.Failed(error);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            Abandoned();
            description = null;
            failed = UpstreamStart.ClientGone;
        }
        catch (UpstreamProtocolException exception)
        {
            description = "unreadable first event";
            failed = UpstreamStart.Failed(ApiError.From(ApiErrorKind.Internal, exception.Message), exception);
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException or OperationCanceledException)
        {
            description = exception is OperationCanceledException ? "timed out before the first event" : "connection lost before the first event";
            failed = UpstreamStart.Failed(
                ApiError.From(ApiErrorKind.UpstreamUnavailable, "The upstream connection failed before the answer started."), exception);
        }

        await response.DisposeAsync();
        return (failed, description);
    }

    /// <summary>
    /// The next attempt, after the wait it needs; null when none may be made (attempts or wait budget spent, a
    /// <c>retry-after</c> too long to wait out here, or every upstream resting).
    /// </summary>
    private async Task<UpstreamResponse?> NextAttemptAsync(double? retryAfterSeconds)
    {
        var options = caller.Options;
        if (_attempts >= options.MaxAttempts)
        {
            return null;
        }

        // The next candidate whose circuit lets a call through, starting after the last one tried.
        var index = -1;
        CircuitBreaker? breaker = null;
        for (var i = 0; i < routes.Count && index < 0; i++)
        {
            var candidate = (_cursor + i) % routes.Count;
            var candidateBreaker = caller.BreakerFor(routes[candidate].Upstream);
            if (candidateBreaker.TryAcquire(out var rest))
            {
                index = candidate;
                breaker = candidateBreaker;
            }
            else
            {
                RestingFor = RestingFor is { } known && known < rest ? known : rest;
                CallTelemetry.Resting(call.Span, routes[candidate].Upstream.Name, rest);
            }
        }

        if (index < 0)
        {
            return null;
        }

        var delay = TimeSpan.Zero;
        if (_tries[index] > 0)
        {
            // Back to an upstream already tried in this call: back off, or wait what it asked for if that is short.
            var backoff = Backoff(_tries[index], options);
            if (index == _lastIndex && retryAfterSeconds is { } seconds && seconds > 0)
            {
                var asked = TimeSpan.FromSeconds(seconds);
                if (asked > options.MaxRetryAfter)
                {
                    breaker!.RecordAbandoned();
                    return null;
                }

                delay = asked > backoff ? asked : backoff;
            }
            else
            {
                delay = backoff;
            }
        }

        if (_waited + delay > options.MaxTotalDelay)
        {
            breaker!.RecordAbandoned();
            return null;
        }

        try
        {
            if (delay > TimeSpan.Zero)
            {
                _waited += delay;
                // Backing off from a failing upstream is waiting on it, not the gateway's overhead.
                var waitStart = Stopwatch.GetTimestamp();
                try
                {
                    await Task.Delay(delay, caller.Time, aborted);
                }
                finally
                {
                    waits?.AddSince(waitStart);
                }
            }

            var route = routes[index];
            var previous = Upstream;
            _attempts++;
            _tries[index]++;
            _lastIndex = index;
            _cursor = (index + 1) % routes.Count;
            Breaker = breaker;
            call.Upstream = route.Upstream.Name;
            call.UpstreamModel = route.UpstreamModel;
            call.UpstreamAttempts = _attempts;
            call.Provider = CallTelemetry.ProviderOf(route.Upstream);
            // Current from here on in this attempt, so that an opted-in traceparent names the attempt (docs/telemetry.md).
            _attemptSpan = CallTelemetry.StartAttempt(call.Span, route.Upstream, route.UpstreamModel, _attempts, previous);
            call.AttemptSpan = _attemptSpan;
            var response = await route.Upstream.SendMessagesAsync(request, route.UpstreamModel, waits, aborted);
            call.UpstreamRequestId = response.UpstreamRequestId;
            return response;
        }
        catch
        {
            // The client left (or something unexpected): no verdict on the upstream.
            breaker!.RecordAbandoned();
            EndAttempt(abandoned: true);
            throw;
        }
    }

    /// <summary>The shortest time until a resting upstream takes calls again, when one was skipped.</summary>
    public TimeSpan? RestingFor { get; private set; }

    public int Attempts => _attempts;

    private void Succeeded()
    {
        if (Breaker?.RecordSuccess() == true && Upstream is { } upstream)
        {
            Log.CircuitClosed(caller.Logger, upstream);
        }
    }

    private void Failed(string failure, string errorType)
    {
        if (Breaker?.RecordFailure() == true)
        {
            Log.CircuitOpened(caller.Logger, Upstream!, caller.Options.BreakerDuration.TotalSeconds);
            CallTelemetry.CircuitOpened(call.Span, Upstream!, caller.Options.BreakerDuration);
        }

        CallTelemetry.AttemptFailed(_attemptSpan, Upstream ?? "", errorType);
        EndAttempt(abandoned: false);

        Log.FailedBeforeFirstByte(caller.Logger, call.RequestId, Upstream ?? "", _attempts, failure);
    }

    private void Abandoned()
    {
        Breaker?.RecordAbandoned();
        EndAttempt(abandoned: true);
    }

    /// <summary>The attempt's span ends with its verdict; the call no longer names it as the one that answered.</summary>
    private void EndAttempt(bool abandoned)
    {
        if (_attemptSpan is null)
        {
            return;
        }

        if (abandoned)
        {
            CallTelemetry.AttemptAbandoned(_attemptSpan);
        }

        if (ReferenceEquals(call.AttemptSpan, _attemptSpan))
        {
            call.AttemptSpan = null;
        }

        _attemptSpan = null;
    }

    /// <summary>A low-cardinality <c>error.type</c> for a failed start: the exception's type, else the error's.</summary>
    private static string ErrorTypeOf(UpstreamStart start) =>
        start.Failure?.GetType().FullName ?? start.Error?.Type ?? "_OTHER";

    private void GaveUp(string failure)
    {
        if (_attempts == 0)
        {
            Log.AllResting(caller.Logger, call.RequestId);
        }
        else
        {
            Log.GaveUp(caller.Logger, call.RequestId, _attempts, Upstream, failure);
        }
    }

    /// <summary>The answer when no upstream could even be tried: every one of them is resting.</summary>
    private ApiError Resting() =>
        ApiError.From(ApiErrorKind.UpstreamUnavailable, "The upstream is unavailable after repeated failures; try again shortly.") with
        {
            RetryAfterSeconds = Math.Max(1, Math.Ceiling((RestingFor ?? TimeSpan.FromSeconds(1)).TotalSeconds)),
        };

    private static TimeSpan Backoff(int previousTries, ResilienceOptions options)
    {
        var exponential = options.FirstRetryDelay.Ticks * (1L << Math.Min(previousTries - 1, 20));
        var capped = Math.Min(options.MaxRetryDelay.Ticks, exponential);
        // Equal jitter: half fixed, half random, so concurrent calls that failed together do not retry together.
        return TimeSpan.FromTicks(capped / 2 + (long)(Random.Shared.NextDouble() * (capped / 2)));
    }
}
