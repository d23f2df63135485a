using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Qhaigc.Functions.Telemetry;

/// <summary>
/// Exporters added in code rather than by the standard variables: registered as a service before the gateway is
/// composed, it turns the telemetry pipeline on and adds its exporters to it (the tests' in-memory exporters).
/// </summary>
public sealed class TelemetryExport
{
    public Action<TracerProviderBuilder>? Traces { get; init; }

    public Action<MeterProviderBuilder>? Metrics { get; init; }

    public Action<LoggerProviderBuilder>? Logs { get; init; }
}
