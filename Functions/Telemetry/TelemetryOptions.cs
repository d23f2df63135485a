namespace Qhaigc.Functions.Telemetry;

/// <summary>
/// The operator's opt-ins for telemetry (<c>Gateway:Telemetry</c>, docs/telemetry.md). Where telemetry goes is set by
/// the standard variables (<c>APPLICATIONINSIGHTS_CONNECTION_STRING</c>, <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>), not here.
/// </summary>
public sealed class TelemetryOptions
{
    /// <summary>
    /// Sends a W3C <c>traceparent</c> to upstreams, so an upstream that traces joins the call's trace. Off by default:
    /// an upstream is a third party, and the trace id is the client's.
    /// </summary>
    public bool PropagateToUpstreams { get; set; }

    /// <summary>
    /// Adds the key id (<c>qhaigc.key_id</c>) to the call metrics. Off by default: one series per key and model can
    /// exceed what a metrics backend (Application Insights among them) keeps.
    /// </summary>
    public bool KeyIdInMetrics { get; set; }
}
