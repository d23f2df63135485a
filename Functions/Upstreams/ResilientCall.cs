using System.Diagnostics;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Usage;
using Log = Qhaigc.Functions.Upstreams.ResilientUpstreamCaller.Log;

namespace Qhaigc.Functions.Upstreams;

/// <summary>One client call's attempts, for <see cref="ResilientUpstreamCaller"/>: which upstream is next, how often each
/// was tried, and how much of the wait budget is spent.</summary>
internal sealed class ResilientCall(
    ResilientUpstreamCaller caller, IReadOnlyList<UpstreamRoute> routes, MessagesRequest request, CallRecorder call, CancellationToken aborted)
{
    private readonly int[] _tries = new int[routes.Count];
    private int _attempts;
    private int _cursor;
    private int _lastIndex = -1;
    private TimeSpan _waited;

    public CallRecorder Call => call;

    public CancellationToken Aborted => aborted;

    /// <summary>The breaker of the upstream of the latest attempt.</summary>
    public CircuitBreaker? Breaker { get; private set; }

    public string? Upstream => _lastIndex < 0 ? null : routes[_lastIndex].Upstream.Name;

    /// <summary>The eager part: attempts until an answer, a non-retryable error, a started stream, or the budget ends.</summary>
    public async Task<UpstreamResponse> SendAsync()
    {
        UpstreamResponse? failed = null;
        while (true)
        {
            var response = await NextAttemptAsync(failed?.Error?.RetryAfterSeconds);
            if (response is null)
            {
                GaveUp(failed?.Error is { } last ? $"{last.Status} {last.Type}" : "no attempt possible");
                return failed ?? Resting();
            }

            if (failed is not null)
            {
                await failed.DisposeAsync();
                failed = null;
            }

            if (response.Error is { } error && ResilientUpstreamCaller.IsRetryable(error.Status))
            {
                Failed($"{error.Status} {error.Type}");
                failed = response;
                continue;
            }

            if (response.Events is null)
            {
                // A whole message, or an error that is the client's (a 400, say): the upstream works.
                Succeeded();
                return response;
            }

            var events = new ResilientEvents(this, response);
            return UpstreamResponse.Stream(events, response.UpstreamRequestId, usageEstimated: () => events.Response.UsageEstimated);
        }
    }

    /// <summary>
    /// The next attempt, after the wait it needs; null when none may be made (attempts or wait budget spent, a
    /// <c>retry-after</c> too long to wait out here, or every upstream resting).
    /// </summary>
    public async Task<UpstreamResponse?> NextAttemptAsync(double? retryAfterSeconds)
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
                    WaitClock.ChargeSince(waitStart);
                }
            }

            var route = routes[index];
            _attempts++;
            _tries[index]++;
            _lastIndex = index;
            _cursor = (index + 1) % routes.Count;
            Breaker = breaker;
            call.Upstream = route.Upstream.Name;
            call.UpstreamModel = route.UpstreamModel;
            call.UpstreamAttempts = _attempts;
            var response = await route.Upstream.SendMessagesAsync(request, route.UpstreamModel, aborted);
            call.UpstreamRequestId = response.UpstreamRequestId;
            return response;
        }
        catch
        {
            // The client left (or something unexpected): no verdict on the upstream.
            breaker!.RecordAbandoned();
            throw;
        }
    }

    /// <summary>The shortest time until a resting upstream takes calls again, when one was skipped.</summary>
    public TimeSpan? RestingFor { get; private set; }

    public int Attempts => _attempts;

    public void Succeeded()
    {
        if (Breaker?.RecordSuccess() == true && Upstream is { } upstream)
        {
            Log.CircuitClosed(caller.Logger, upstream);
        }
    }

    public void Failed(string failure)
    {
        if (Breaker?.RecordFailure() == true)
        {
            Log.CircuitOpened(caller.Logger, Upstream!, caller.Options.BreakerDuration.TotalSeconds);
        }

        Log.FailedBeforeFirstByte(caller.Logger, call.RequestId, Upstream ?? "", _attempts, failure);
    }

    public void Abandoned() => Breaker?.RecordAbandoned();

    public void GaveUp(string failure)
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
    public UpstreamResponse Resting() => UpstreamResponse.Failed(
        ApiError.From(ApiErrorKind.UpstreamUnavailable, "The upstream is unavailable after repeated failures; try again shortly.") with
        {
            RetryAfterSeconds = Math.Max(1, Math.Ceiling((RestingFor ?? TimeSpan.FromSeconds(1)).TotalSeconds)),
        });

    private static TimeSpan Backoff(int previousTries, ResilienceOptions options)
    {
        var exponential = options.FirstRetryDelay.Ticks * (1L << Math.Min(previousTries - 1, 20));
        var capped = Math.Min(options.MaxRetryDelay.Ticks, exponential);
        // Equal jitter: half fixed, half random, so concurrent calls that failed together do not retry together.
        return TimeSpan.FromTicks(capped / 2 + (long)(Random.Shared.NextDouble() * (capped / 2)));
    }
}
