namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// One attempt's hold on a deployment and model that <see cref="UpstreamHealth.TryAcquire"/> let through (perhaps as
/// the one probe of a circuit whose rest is over); its outcome is recorded once through it.
/// </summary>
public sealed class HealthLease
{
    private readonly UpstreamHealth _health;
    private readonly ModelHealth _model;

    internal HealthLease(UpstreamHealth health, ModelHealth model)
    {
        _health = health;
        _model = model;
    }

    /// <summary>
    /// The upstream works: it answered the call (<paramref name="answered"/>), or refused it as the client's own error
    /// (a <c>400</c>, a model it does not know), which says nothing about the model's name being real.
    /// </summary>
    public void Succeeded(RateLimitHeadroom? headroom = null, bool answered = true) => _health.Succeeded(_model, headroom, answered);

    /// <summary>
    /// The attempt failed before the first byte, in the way <paramref name="fault"/> says; returns the rest this failure
    /// started (of the deployment or of the model), if it started one.
    /// </summary>
    public TimeSpan? Failed(UpstreamFault fault, string failure, TimeSpan? retryAfter = null, RateLimitHeadroom? headroom = null) =>
        _health.Failed(_model, fault, failure, retryAfter, headroom);

    /// <summary>No verdict (the client left, or the call gave up before sending): a probe's slot is freed.</summary>
    public void Abandoned() => UpstreamHealth.Abandoned(_model);
}
