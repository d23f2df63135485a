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

    /// <summary>The latest attempt's hold on its deployment's and model's health, until its outcome is recorded.</summary>
    private HealthLease? _lease;

    /// <summary>Why upstreams were skipped as resting in this call, one bit per <see cref="UpstreamRestReason"/>.</summary>
    private int _restReasons;

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
                // An error answer is not billed: a client that leaves from here on owes nothing for this attempt.
                call.RequestWithUpstream = null;
                await response.DisposeAsync();
                var fault = response.Unreachable ? UpstreamFault.Transport : FaultOf(error);
                if (fault is null)
                {
                    // The client's own error (a 400, say): the upstream works.
                    Succeeded(response.RateLimit, answered: false);
                    return UpstreamStart.Failed(error);
                }

                Failed(fault.Value, $"{error.Status} {error.Type}", error.Type, error.RetryAfterSeconds, response.RateLimit);
                last = fault == UpstreamFault.Credentials ? CredentialsRefused() : error;
                lastException = null;
                continue;
            }

            if (response.Events is null)
            {
                Succeeded(response.RateLimit);
                return new UpstreamStart(UpstreamStartOutcome.Message, response);
            }

            var (first, failure) = await FirstEventAsync(response);
            if (failure is not { } failed)
            {
                // Started, waiting past the first-event timeout, refused by an error the client caused, or the client
                // is gone: nothing to try again.
                return first;
            }

            Failed(failed.Fault, failed.Description, ErrorTypeOf(first), first.Error?.RetryAfterSeconds, response.RateLimit);
            call.RequestWithUpstream = null;

            last = failed.Fault == UpstreamFault.Credentials ? CredentialsRefused() : first.Error;
            lastException = first.Failure;
        }
    }

    /// <summary>
    /// Reads a stream attempt's first event: it starts the answer, unless the stream ended, failed or was unreadable
    /// before it, or it is an <c>error</c> event; an error the client caused ends the attempts as it is, any other
    /// failure is one more reason to try again. The attempt's response is disposed unless it started.
    /// </summary>
    private async ValueTask<(UpstreamStart Start, AttemptFailure? Failure)> FirstEventAsync(UpstreamResponse response)
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
        if (failure is { } failed)
        {
            Failed(failed.Fault, failed.Description, ErrorTypeOf(start), start.Error?.RetryAfterSeconds, response.RateLimit);
            GaveUp(failed.Description);
            if (failed.Fault == UpstreamFault.Credentials)
            {
                return UpstreamStart.Failed(CredentialsRefused());
            }
        }

        return start;
    }

    /// <summary>
    /// Classifies a stream attempt's first read: its first event starts the answer, unless the stream ended, failed or
    /// was unreadable before it, or it is an <c>error</c> event; an error the client caused ends the attempts as it is
    /// (no failure to retry), any other failure is one more reason to try again. The response is disposed unless it
    /// started.
    /// </summary>
    private async ValueTask<(UpstreamStart Start, AttemptFailure? Failure)> ClassifyAsync(UpstreamResponse response, ValueTask<bool> move)
    {
        var events = response.Events!;
        UpstreamStart failed;
        AttemptFailure? failure;
        try
        {
            if (!await move)
            {
                failure = new(UpstreamFault.Transport, "empty stream");
                failed = UpstreamStart.Failed(ApiError.From(ApiErrorKind.UpstreamUnavailable, "The upstream closed the stream without an answer."));
            }
            else if (events.Current.EventType != EventNames.Error)
            {
                Succeeded(response.RateLimit);
                return (new UpstreamStart(UpstreamStartOutcome.Streaming, response, events.Current), null);
            }
            else
            {
                var error = UpstreamErrorText.FromErrorEvent(events.Current.Data.Span);
                failure = FaultOf(error) is { } fault ? new(fault, "error event " + error.Type) : null;
                if (failure is null)
                {
                    // An error the client caused, as the upstream sent it: the upstream works, and no attempt follows.
                    Succeeded(response.RateLimit, answered: false);
                }

                failed = UpstreamStart.Failed(error);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            Abandoned();
            failure = null;
            failed = UpstreamStart.ClientGone;
        }
        catch (UpstreamProtocolException exception)
        {
            failure = new(UpstreamFault.Model, "unreadable first event");
            failed = UpstreamStart.Failed(ApiError.From(ApiErrorKind.Internal, exception.Message), exception);
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException or OperationCanceledException)
        {
            failure = new(UpstreamFault.Transport,
                exception is OperationCanceledException ? "timed out before the first event" : "connection lost before the first event");
            failed = UpstreamStart.Failed(
                ApiError.From(ApiErrorKind.UpstreamUnavailable, "The upstream connection failed before the answer started."), exception);
        }

        await response.DisposeAsync();
        return (failed, failure);
    }

    /// <summary>
    /// What an upstream's error says about the upstream (docs/faults.md#health), or null when it is the client's own
    /// error, relayed as it is: refused credentials, a rate limit, or overload and other server errors.
    /// </summary>
    internal static UpstreamFault? FaultOf(ApiError error) =>
        ResilientUpstreamCaller.RefusesCredentials(error) ? UpstreamFault.Credentials
        : !ResilientUpstreamCaller.IsRetryable(error.Status) ? null
        : error.Status == 429 ? UpstreamFault.RateLimited
        : UpstreamFault.Model;

    /// <summary>
    /// The next attempt, after the wait it needs; null when none may be made (attempts or wait budget spent, a
    /// <c>retry-after</c> too long to wait out here, or every upstream resting for longer than that).
    /// </summary>
    private async Task<UpstreamResponse?> NextAttemptAsync(double? retryAfterSeconds)
    {
        var options = caller.Options;
        if (_attempts >= options.MaxAttempts)
        {
            return null;
        }

        // The next candidate whose deployment and model take a call, starting after the last one tried; when every
        // one rests, the one whose rate limit ends first, if that is soon enough to wait for here (as a short
        // retry-after is). A circuit's rest is never waited for: it answers at once (docs/faults.md).
        var index = -1;
        HealthLease? lease = null;
        var soonest = -1;
        var restLeft = TimeSpan.MaxValue;
        for (var i = 0; i < routes.Count && index < 0; i++)
        {
            var candidate = (_cursor + i) % routes.Count;
            if (caller.Health.TryAcquire(routes[candidate].Upstream.Name, routes[candidate].UpstreamModel, out lease, out var rest))
            {
                index = candidate;
            }
            else
            {
                _restReasons |= 1 << (int)rest.Reason;
                RestingFor = RestingFor is { } known && known < rest.For ? known : rest.For;
                CallTelemetry.Resting(call.Span, routes[candidate].Upstream.Name, rest.For);
                if (rest.Reason is UpstreamRestReason.RateLimited or UpstreamRestReason.RateLimitUsedUp && rest.For < restLeft)
                {
                    (soonest, restLeft) = (candidate, rest.For);
                }
            }
        }

        var delay = TimeSpan.Zero;
        if (index < 0)
        {
            if (soonest < 0 || restLeft > options.MaxRetryAfter)
            {
                return null;
            }

            index = soonest;
            delay = restLeft;
        }

        if (_tries[index] > 0)
        {
            // Back to an upstream already tried in this call: back off, or wait what it asked for if that is short.
            var backoff = Backoff(_tries[index], options);
            if (index == _lastIndex && retryAfterSeconds is { } seconds && seconds > 0)
            {
                var asked = TimeSpan.FromSeconds(seconds);
                if (asked > options.MaxRetryAfter)
                {
                    lease?.Abandoned();
                    return null;
                }

                backoff = asked > backoff ? asked : backoff;
            }

            delay = backoff > delay ? backoff : delay;
        }

        if (_waited + delay > options.MaxTotalDelay)
        {
            lease?.Abandoned();
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

            // A rest waited out: its upstream is asked again (another call may have taken its one probe meanwhile).
            if (lease is null && !caller.Health.TryAcquire(routes[index].Upstream.Name, routes[index].UpstreamModel, out lease, out _, rateLimitWaited: true))
            {
                return null;
            }

            var route = routes[index];
            var previous = Upstream;
            _attempts++;
            _tries[index]++;
            _lastIndex = index;
            _cursor = (index + 1) % routes.Count;
            _lease = lease;
            call.Upstream = route.Upstream.Name;
            call.UpstreamModel = route.UpstreamModel;
            call.UpstreamAttempts = _attempts;
            call.RequestWithUpstream = request;
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
            lease?.Abandoned();
            EndAttempt(abandoned: true);
            throw;
        }
    }

    /// <summary>The shortest time until a resting upstream takes calls again, when one was skipped.</summary>
    public TimeSpan? RestingFor { get; private set; }

    public int Attempts => _attempts;

    private void Succeeded(RateLimitHeadroom? headroom, bool answered = true)
    {
        _lease?.Succeeded(headroom, answered);
        _lease = null;
    }

    private void Failed(UpstreamFault fault, string failure, string errorType, double? retryAfterSeconds, RateLimitHeadroom? headroom)
    {
        if (_lease?.Failed(fault, failure, retryAfterSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null, headroom) is { } rest)
        {
            CallTelemetry.CircuitOpened(call.Span, Upstream!, rest);
        }

        _lease = null;
        CallTelemetry.AttemptFailed(_attemptSpan, Upstream ?? "", errorType);
        EndAttempt(abandoned: false);
        Log.FailedBeforeFirstByte(caller.Logger, call.RequestId, Upstream ?? "", _attempts, failure);
    }

    private void Abandoned()
    {
        _lease?.Abandoned();
        _lease = null;
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

    /// <summary>
    /// The answer when no upstream could even be tried, by why they rest (docs/faults.md#health): a rate limit alone is a
    /// <c>429</c>; refused credentials alone a <c>503 api_error</c> that says nothing of them; anything else a <c>529</c>.
    /// Each is retryable, with the rest left as its <c>retry-after</c>.
    /// </summary>
    private ApiError Resting()
    {
        var retryAfter = Math.Max(1, Math.Ceiling((RestingFor ?? TimeSpan.FromSeconds(1)).TotalSeconds));
        const int rateLimits = 1 << (int)UpstreamRestReason.RateLimited | 1 << (int)UpstreamRestReason.RateLimitUsedUp;
        if (_restReasons != 0 && (_restReasons & ~rateLimits) == 0)
        {
            return ApiError.From(ApiErrorKind.RateLimited, "The upstream's rate limit for this model is reached; try again after the retry-after.") with
            {
                RetryAfterSeconds = retryAfter,
            };
        }

        if (_restReasons == 1 << (int)UpstreamRestReason.CredentialsRefused)
        {
            return CredentialsRefused();
        }

        return ApiError.From(ApiErrorKind.UpstreamUnavailable, "The upstream is unavailable after repeated failures; try again shortly.") with
        {
            RetryAfterSeconds = retryAfter,
        };
    }

    private static ApiError CredentialsRefused() => ResilientUpstreamCaller.CredentialsRefused;

    /// <summary>Why an attempt failed: what it says about the upstream, and how it is logged.</summary>
    private readonly record struct AttemptFailure(UpstreamFault Fault, string Description);

    private static TimeSpan Backoff(int previousTries, ResilienceOptions options)
    {
        var exponential = options.FirstRetryDelay.Ticks * (1L << Math.Min(previousTries - 1, 20));
        var capped = Math.Min(options.MaxRetryDelay.Ticks, exponential);
        // Equal jitter: half fixed, half random, so concurrent calls that failed together do not retry together.
        return TimeSpan.FromTicks(capped / 2 + (long)(Random.Shared.NextDouble() * (capped / 2)));
    }
}
