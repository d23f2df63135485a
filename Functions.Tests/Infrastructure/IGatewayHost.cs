namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>
/// A running gateway reachable over real HTTP. End-to-end tests take the hosting mode as a theory parameter and run
/// one test body against each mode, so the modes cannot drift.
/// </summary>
public interface IGatewayHost : IAsyncDisposable
{
    /// <summary><see cref="GatewayHosts.Standalone"/> or <see cref="GatewayHosts.Functions"/>.</summary>
    string Mode { get; }

    Uri BaseAddress { get; }

    /// <summary>Everything the gateway logged so far (for the secrets-never-logged checks).</summary>
    string CapturedLogs { get; }

    /// <summary>
    /// The spans, metric points and log records the gateway exported (in memory, or to the test OTLP receiver), each
    /// checked for secrets as it arrived; null for a gateway started without telemetry.
    /// </summary>
    TelemetryCapture? Telemetry { get; }
}
