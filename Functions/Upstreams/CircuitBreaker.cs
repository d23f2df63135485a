namespace Qhaigc.Functions.Upstreams;

/// <summary>The states of an upstream's circuit.</summary>
public enum CircuitState
{
    /// <summary>Calls flow; consecutive failures are counted.</summary>
    Closed,

    /// <summary>Resting: no call goes to the upstream until the rest is over.</summary>
    Open,

    /// <summary>The rest is over: one probe call is let through, and its outcome closes or reopens the circuit.</summary>
    HalfOpen,
}

/// <summary>
/// One upstream's circuit breaker (docs/faults.md): after <c>threshold</c> consecutive failures the upstream rests for
/// <c>duration</c> instead of being hammered; then one probe decides. Failures are outcomes before the first byte
/// (connect errors, resets, 429/5xx/529); a client error such as a 400 is a working upstream.
/// </summary>
public sealed class CircuitBreaker(int threshold, TimeSpan duration, TimeProvider time)
{
    private readonly Lock _lock = new();
    private int _failures;
    private DateTimeOffset _openUntil;
    private DateTimeOffset? _probeSince;

    public CircuitState State { get; private set; } = CircuitState.Closed;

    /// <summary>True while the upstream rests: open and its rest not over, or half-open with its one probe out.</summary>
    public bool IsResting
    {
        get
        {
            var now = time.GetUtcNow();
            lock (_lock)
            {
                return State switch
                {
                    CircuitState.Open => now < _openUntil,
                    CircuitState.HalfOpen => _probeSince is { } since && now - since < duration,
                    _ => false,
                };
            }
        }
    }

    /// <summary>
    /// True when a call may go to the upstream now (in half-open state, only the one probe). When false,
    /// <paramref name="retryAfter"/> says how long the rest still lasts.
    /// </summary>
    public bool TryAcquire(out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (threshold <= 0)
        {
            return true;
        }

        var now = time.GetUtcNow();
        lock (_lock)
        {
            switch (State)
            {
                case CircuitState.Closed:
                    return true;
                case CircuitState.Open when now < _openUntil:
                    retryAfter = _openUntil - now;
                    return false;
                case CircuitState.Open:
                    State = CircuitState.HalfOpen;
                    _probeSince = now;
                    return true;
                default:
                    // Half-open: one probe at a time; a probe whose outcome never came (lost) is replaced after a rest.
                    if (_probeSince is { } since && now - since < duration)
                    {
                        retryAfter = since + duration - now;
                        return false;
                    }

                    _probeSince = now;
                    return true;
            }
        }
    }

    /// <summary>The upstream answered (even with a client error): the circuit closes.</summary>
    public bool RecordSuccess()
    {
        lock (_lock)
        {
            var wasOpen = State != CircuitState.Closed;
            State = CircuitState.Closed;
            _failures = 0;
            _probeSince = null;
            return wasOpen;
        }
    }

    /// <summary>The upstream failed; returns true when this failure opened the circuit.</summary>
    public bool RecordFailure()
    {
        if (threshold <= 0)
        {
            return false;
        }

        var now = time.GetUtcNow();
        lock (_lock)
        {
            _failures++;
            if (State == CircuitState.HalfOpen || (State == CircuitState.Closed && _failures >= threshold))
            {
                State = CircuitState.Open;
                _openUntil = now + duration;
                _probeSince = null;
                return true;
            }

            return false;
        }
    }

    /// <summary>A call let through ended with no verdict (the client left): a half-open probe slot is freed.</summary>
    public void RecordAbandoned()
    {
        lock (_lock)
        {
            if (State == CircuitState.HalfOpen)
            {
                _probeSince = null;
            }
        }
    }
}
