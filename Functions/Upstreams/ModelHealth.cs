namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// The health of one model on one deployment (docs/faults.md#health): its own circuit for overload and server errors,
/// a rest after a <c>429</c> or a used-up rate limit, the headroom the deployment last reported for it, and its recent
/// calls. A model failing here never rests the deployment's other models.
/// </summary>
public sealed class ModelHealth
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private DateTimeOffset _restUntil;
    private UpstreamRestReason _restReason;

    internal ModelHealth(DeploymentHealth deployment, string model, CircuitBreaker breaker, TimeProvider time)
    {
        Deployment = deployment;
        Model = model;
        Breaker = breaker;
        _time = time;
        Recent = new RecentCalls(time);
    }

    public DeploymentHealth Deployment { get; }

    /// <summary>The upstream's name for the model.</summary>
    public string Model { get; }

    /// <summary>Opens after repeated overload or server errors of this model on this deployment.</summary>
    public CircuitBreaker Breaker { get; }

    public RecentCalls Recent { get; }

    /// <summary>What the deployment's last answer for this model said about its rate limits.</summary>
    public RateLimitHeadroom? Headroom { get; private set; }

    /// <summary>When the model last took part in a call; healthy entries idle for long may be dropped.</summary>
    internal DateTimeOffset LastUsed { get; private set; }

    /// <summary>True once the upstream answered a call for this model: a name it serves, not one a client made up.</summary>
    internal bool Answered { get; set; }

    /// <summary>The rest from a rate limit, if one is still running.</summary>
    public UpstreamRest? RateLimitRest
    {
        get
        {
            lock (_lock)
            {
                var left = _restUntil - _time.GetUtcNow();
                return left > TimeSpan.Zero ? new UpstreamRest(_restReason, left) : null;
            }
        }
    }

    internal void Touch() => LastUsed = _time.GetUtcNow();

    /// <summary>Rests the model until <paramref name="until"/> (a later rest already running is kept).</summary>
    internal void RestUntil(DateTimeOffset until, UpstreamRestReason reason)
    {
        lock (_lock)
        {
            if (until > _restUntil)
            {
                _restUntil = until;
                _restReason = reason;
            }
        }
    }

    /// <summary>Keeps what an answer reported and rests the model while a limit it names is used up.</summary>
    internal void Observe(RateLimitHeadroom? headroom)
    {
        if (headroom is null)
        {
            return;
        }

        Headroom = headroom;
        if (headroom.UsedUpUntil(_time.GetUtcNow()) is { } until)
        {
            RestUntil(until, UpstreamRestReason.RateLimitUsedUp);
        }
    }
}
