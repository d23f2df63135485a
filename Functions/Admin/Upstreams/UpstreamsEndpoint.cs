using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Admin.Upstreams;

/// <summary>
/// <c>GET /manage/upstreams</c> (docs/admin-api.md#upstreams): every configured deployment, its pool, its state and
/// its models' states on this instance (health is kept per instance, never shared), and its recent calls.
/// </summary>
public sealed class UpstreamsEndpoint(AdminAuthorization admin, UpstreamRouter router, UpstreamHealth health, TimeProvider time)
{
    public const string Available = "available";
    public const string Resting = "resting";

    public Task<IResult> HandleUpstreamsAsync(HttpContext context) => admin.RunAsync(context, "GET", method => method switch
    {
        "GET" => Task.FromResult(AdminResults.Json(Report(), GatewayJsonContext.Default.UpstreamsReport)),
        _ => null,
    });

    public UpstreamsReport Report()
    {
        var now = time.GetUtcNow();
        var views = new List<UpstreamView>();
        foreach (var deployment in router.Deployments)
        {
            var state = health.Find(deployment.Name);
            var rest = state is null ? null
                : Rest(state.Credentials, UpstreamRestReason.CredentialsRefused) ?? Rest(state.Transport, UpstreamRestReason.Unreachable);
            var (calls, failures) = state?.Recent.Count() ?? (0, 0);
            var models = state?.Models.Select(m => ModelView(m, now)).ToArray() ?? [];
            views.Add(new UpstreamView(deployment.Name, deployment.Patterns, deployment.Priority, deployment.Weight,
                rest is null ? Available : Resting, rest is { } r ? now + r.For : null, rest is { } why ? ReasonName(why.Reason) : null,
                calls, failures, models));
        }

        return new UpstreamsReport(router.Affinity, views);
    }

    private static UpstreamModelView ModelView(ModelHealth model, DateTimeOffset now)
    {
        var rest = Rest(model.Breaker, UpstreamRestReason.Failing) ?? model.RateLimitRest;
        var (calls, failures) = model.Recent.Count();
        return new UpstreamModelView(model.Model, rest is null ? Available : Resting, rest is { } r ? now + r.For : null,
            rest is { } why ? ReasonName(why.Reason) : null, calls, failures, model.Headroom);
    }

    private static UpstreamRest? Rest(CircuitBreaker breaker, UpstreamRestReason reason) =>
        breaker.IsResting ? new UpstreamRest(reason, breaker.RestLeft) : null;

    /// <summary>The reason's name on the wire, in the API's snake case.</summary>
    public static string ReasonName(UpstreamRestReason reason) => reason switch
    {
        UpstreamRestReason.Unreachable => "unreachable",
        UpstreamRestReason.CredentialsRefused => "credentials_refused",
        UpstreamRestReason.Failing => "failing",
        UpstreamRestReason.RateLimited => "rate_limited",
        UpstreamRestReason.RateLimitUsedUp => "rate_limit_used_up",
        _ => "available",
    };
}
