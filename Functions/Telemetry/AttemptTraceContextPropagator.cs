using System.Diagnostics;

namespace Qhaigc.Functions.Telemetry;

/// <summary>
/// The opted-in <c>traceparent</c> to upstreams (<c>Gateway:Telemetry:PropagateToUpstreams</c>, docs/telemetry.md):
/// W3C trace context naming the upstream attempt's client span. HttpClient wraps each request in an activity of its
/// own that the gateway does not export; naming it would give the upstream a parent no trace backend has.
/// </summary>
public sealed class AttemptTraceContextPropagator : DistributedContextPropagator
{
    private static readonly DistributedContextPropagator W3C = CreateW3CPropagator();

    public override IReadOnlyCollection<string> Fields => W3C.Fields;

    public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter)
    {
        if (activity is { Parent: { } parent } && activity.Source != GatewayTelemetry.Source && parent.Source == GatewayTelemetry.Source)
        {
            activity = parent;
        }

        W3C.Inject(activity, carrier, setter);
    }

    public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState) =>
        W3C.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);

    public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter) =>
        W3C.ExtractBaggage(carrier, getter);
}
