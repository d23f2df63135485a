using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// The health of every deployment and of each model on it, shared by every call on this instance
/// (docs/faults.md#health). Transport failures rest the whole deployment; refused credentials take it out for every
/// model; a <c>429</c> rests that model on it for the <c>retry-after</c> it gave; overload and other server errors
/// count against that model on it only, so one busy model never takes the deployment's others down.
/// </summary>
public sealed partial class UpstreamHealth(IOptions<GatewayOptions> options, TimeProvider time, ILogger<UpstreamHealth> logger)
{
    private readonly ConcurrentDictionary<string, DeploymentHealth> _deployments = new(StringComparer.OrdinalIgnoreCase);
    private readonly ResilienceOptions _options = options.Value.Resilience;

    internal TimeProvider Time => time;

    /// <summary>A deployment's health, or null when it took part in no call on this instance yet.</summary>
    public DeploymentHealth? Find(string deployment) => _deployments.GetValueOrDefault(deployment);

    /// <summary>Every deployment called so far on this instance (the resting gauge reads them: docs/telemetry.md).</summary>
    public IEnumerable<DeploymentHealth> Deployments => _deployments.Values;

    public DeploymentHealth For(string deployment) => _deployments.GetOrAdd(deployment, static (name, self) => new DeploymentHealth(name,
        self.Breaker(), new CircuitBreaker(1, self._options.CredentialFailureRest, self.Time),
        (d, model) => new ModelHealth(d, model, self.Breaker(), self.Time), self.Time), this);

    /// <summary>
    /// True when an attempt may go to <paramref name="upstream"/> for <paramref name="model"/> now, with the lease
    /// that records its outcome; otherwise <paramref name="rest"/> says why not and for how long. A caller that has
    /// just waited out the model's rate limit says so (<paramref name="rateLimitWaited"/>), since a timer may end a
    /// moment before the rest does.
    /// </summary>
    public bool TryAcquire(string upstream, string model, out HealthLease? lease, out UpstreamRest rest, bool rateLimitWaited = false)
    {
        var deployment = For(upstream);
        var health = deployment.Model(model);
        lease = null;
        if (!deployment.Credentials.TryAcquire(out var left))
        {
            rest = new UpstreamRest(UpstreamRestReason.CredentialsRefused, left);
            return false;
        }

        if (!deployment.Transport.TryAcquire(out left))
        {
            deployment.Credentials.RecordAbandoned();
            rest = new UpstreamRest(UpstreamRestReason.Unreachable, left);
            return false;
        }

        var modelRest = rateLimitWaited ? null : health.RateLimitRest;
        if (modelRest is null && !health.Breaker.TryAcquire(out left))
        {
            modelRest = new UpstreamRest(UpstreamRestReason.Failing, left);
        }

        if (modelRest is { } resting)
        {
            deployment.Credentials.RecordAbandoned();
            deployment.Transport.RecordAbandoned();
            rest = resting;
            return false;
        }

        health.Touch();
        rest = default;
        lease = new HealthLease(this, health);
        return true;
    }

    /// <summary>
    /// The first of <paramref name="routes"/> that is not resting, or the first of them when all are: for a single
    /// request with no retry (<c>count_tokens</c>), a look that claims no probe.
    /// </summary>
    public UpstreamRoute FirstAvailable(IReadOnlyList<UpstreamRoute> routes)
    {
        foreach (var route in routes)
        {
            var deployment = Find(route.Upstream.Name);
            if (deployment is null)
            {
                return route;
            }

            var model = deployment.Model(route.UpstreamModel);
            if (!deployment.Credentials.IsResting && !deployment.Transport.IsResting && !model.Breaker.IsResting && model.RateLimitRest is null)
            {
                return route;
            }
        }

        return routes[0];
    }

    /// <summary>
    /// What the client of a single attempt with no retry (<c>count_tokens</c>) gets for an upstream's error: a refusal
    /// of the gateway's credentials takes the deployment out and becomes <see cref="ResilientUpstreamCaller.CredentialsRefused"/>;
    /// any other error is relayed as it is.
    /// </summary>
    public ApiError ScreenSingleAttempt(UpstreamRoute route, ApiError error)
    {
        if (!ResilientUpstreamCaller.RefusesCredentials(error))
        {
            return error;
        }

        var deployment = For(route.Upstream.Name);
        var failure = $"{error.Status} {error.Type}";
        deployment.CredentialsRefusal = failure;
        deployment.Credentials.RecordFailure();
        Log.CredentialsRefused(logger, deployment.Name, failure, _options.CredentialFailureRest.TotalSeconds);
        return ResilientUpstreamCaller.CredentialsRefused;
    }

    internal void Succeeded(ModelHealth health, RateLimitHeadroom? headroom, bool answered = true)
    {
        health.Answered |= answered;
        var deployment = health.Deployment;
        deployment.Recent.Add(failed: false);
        health.Recent.Add(failed: false);
        health.Observe(headroom);
        if (deployment.Credentials.RecordSuccess())
        {
            deployment.CredentialsRefusal = null;
            Log.DeploymentBack(logger, deployment.Name);
        }

        if (deployment.Transport.RecordSuccess())
        {
            Log.DeploymentBack(logger, deployment.Name);
        }

        if (health.Breaker.RecordSuccess())
        {
            Log.ModelBack(logger, deployment.Name, health.Model);
        }
    }

    internal TimeSpan? Failed(ModelHealth health, UpstreamFault fault, string failure, TimeSpan? retryAfter, RateLimitHeadroom? headroom)
    {
        var deployment = health.Deployment;
        deployment.Recent.Add(failed: true);
        health.Recent.Add(failed: true);
        health.Observe(headroom);
        switch (fault)
        {
            case UpstreamFault.Transport:
                deployment.Credentials.RecordAbandoned();
                health.Breaker.RecordAbandoned();
                if (deployment.Transport.RecordFailure())
                {
                    Log.DeploymentResting(logger, deployment.Name, failure, _options.BreakerDuration.TotalSeconds);
                    return _options.BreakerDuration;
                }

                return null;
            case UpstreamFault.Credentials:
                // Always critical: an account revoked or out of credit needs a person, whatever else serves the model.
                deployment.Transport.RecordSuccess();
                health.Breaker.RecordAbandoned();
                deployment.CredentialsRefusal = failure;
                deployment.Credentials.RecordFailure();
                Log.CredentialsRefused(logger, deployment.Name, failure, _options.CredentialFailureRest.TotalSeconds);
                return _options.CredentialFailureRest;
            case UpstreamFault.RateLimited when retryAfter is { } wait && wait > TimeSpan.Zero:
                deployment.Credentials.RecordSuccess();
                deployment.Transport.RecordSuccess();
                health.Breaker.RecordAbandoned();
                health.RestUntil(time.GetUtcNow() + wait, UpstreamRestReason.RateLimited);
                return wait;
            default:
                deployment.Credentials.RecordSuccess();
                deployment.Transport.RecordSuccess();
                if (health.Breaker.RecordFailure())
                {
                    Log.ModelResting(logger, deployment.Name, health.Model, failure, _options.BreakerDuration.TotalSeconds);
                    return _options.BreakerDuration;
                }

                return null;
        }
    }

    internal static void Abandoned(ModelHealth health)
    {
        health.Deployment.Credentials.RecordAbandoned();
        health.Deployment.Transport.RecordAbandoned();
        health.Breaker.RecordAbandoned();
    }

    private CircuitBreaker Breaker() => new(_options.BreakerFailureThreshold, _options.BreakerDuration, time);

    private static partial class Log
    {
        [LoggerMessage(EventId = 2202, Level = LogLevel.Warning,
            Message = "Upstream {Upstream}: circuit opened for model {Model} after repeated failures ({Failure}); resting it for {RestSeconds} s, the upstream's other models still serve")]
        public static partial void ModelResting(ILogger logger, string upstream, string model, string failure, double restSeconds);

        [LoggerMessage(EventId = 2203, Level = LogLevel.Information, Message = "Upstream {Upstream}: circuit closed for model {Model}, it answers again")]
        public static partial void ModelBack(ILogger logger, string upstream, string model);

        [LoggerMessage(EventId = 2206, Level = LogLevel.Warning,
            Message = "Upstream {Upstream}: circuit opened after repeated transport failures ({Failure}); resting every model for {RestSeconds} s")]
        public static partial void DeploymentResting(ILogger logger, string upstream, string failure, double restSeconds);

        [LoggerMessage(EventId = 2207, Level = LogLevel.Information, Message = "Upstream {Upstream}: circuit closed, the upstream answers again")]
        public static partial void DeploymentBack(ILogger logger, string upstream);

        [LoggerMessage(EventId = 2208, Level = LogLevel.Critical,
            Message = "Upstream {Upstream} refused the gateway's credentials ({Failure}); taken out for every model for {RestSeconds} s. Check its account and key.")]
        public static partial void CredentialsRefused(ILogger logger, string upstream, string failure, double restSeconds);
    }
}
