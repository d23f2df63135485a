using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Admin.Upstreams;

/// <summary>
/// One model on a deployment (by the upstream's name for it): whether it takes calls, why not and until when, the
/// rate-limit headroom the deployment last reported for it, and its attempts and failures over the last five minutes.
/// </summary>
public sealed record UpstreamModelView(
    string Model,
    string State,
    DateTimeOffset? RestingUntil,
    string? Reason,
    int Calls,
    int Failures,
    RateLimitHeadroom? RateLimit);
