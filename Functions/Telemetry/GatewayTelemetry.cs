using System.Diagnostics;
using System.Diagnostics.Metrics;
using Names = Qhaigc.Functions.Telemetry.TelemetryNames.Metrics;

namespace Qhaigc.Functions.Telemetry;

/// <summary>
/// The gateway's one trace source and one meter, and its instruments (docs/telemetry.md). With no listener (no exporter
/// configured), <c>StartActivity</c> returns null and each instrument's <c>Enabled</c> is false, so the request path
/// checks a flag and does nothing else.
/// </summary>
public static class GatewayTelemetry
{
    private static readonly string? Version = typeof(GatewayTelemetry).Assembly.GetName().Version?.ToString();

    public static readonly ActivitySource Source = new(TelemetryNames.Source, Version);

    public static readonly Meter Meter = new(TelemetryNames.Source, Version);

    // Bucket boundaries as the GenAI semantic conventions advise (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-metrics/).
    private static readonly InstrumentAdvice<long> TokenBuckets = new()
    {
        HistogramBucketBoundaries = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864],
    };

    private static readonly InstrumentAdvice<double> DurationBuckets = new()
    {
        HistogramBucketBoundaries = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92],
    };

    private static readonly InstrumentAdvice<double> FirstTokenBuckets = new()
    {
        HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0],
    };

    private static readonly InstrumentAdvice<double> PerTokenBuckets = new()
    {
        HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5],
    };

    private static readonly InstrumentAdvice<double> OverheadBuckets = new()
    {
        HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    };

    public static readonly Histogram<long> TokenUsage = Meter.CreateHistogram(
        Names.TokenUsage, "{token}", "Tokens used per call, by type (input counts cache reads and writes).", advice: TokenBuckets);

    public static readonly Histogram<double> OperationDuration = Meter.CreateHistogram(
        Names.OperationDuration, "s", "Duration of a call that reached an upstream, as its client (the gateway) saw it.", advice: DurationBuckets);

    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram(
        Names.RequestDuration, "s", "Duration of every recorded call, as the gateway's client saw it.", advice: DurationBuckets);

    public static readonly Histogram<double> TimeToFirstToken = Meter.CreateHistogram(
        Names.TimeToFirstToken, "s", "Time from a streamed call's arrival to its first byte to the client.", advice: FirstTokenBuckets);

    public static readonly Histogram<double> TimePerOutputToken = Meter.CreateHistogram(
        Names.TimePerOutputToken, "s", "Time per output token of a streamed call after its first.", advice: PerTokenBuckets);

    public static readonly Histogram<double> Overhead = Meter.CreateHistogram(
        Names.Overhead, "s", "The gateway's own time up to the answer's headers, without waits on upstream or client.", advice: OverheadBuckets);

    public static readonly Counter<double> Cost = Meter.CreateCounter<double>(Names.Cost, "{currency}", "What calls cost, by model and currency.");

    public static readonly Counter<long> Refusals = Meter.CreateCounter<long>(Names.Refusals, "{call}", "Calls answered with an error, by reason.");

    public static readonly Counter<long> UpstreamAttempts = Meter.CreateCounter<long>(
        Names.UpstreamAttempts, "{attempt}", "Upstream attempts, retries and fallbacks included.");

    public static readonly Counter<long> UpstreamFailures = Meter.CreateCounter<long>(
        Names.UpstreamFailures, "{attempt}", "Upstream attempts that failed before the answer started.");

    public static readonly Counter<long> UsageRecordsLost = Meter.CreateCounter<long>(
        Names.UsageRecordsLost, "{record}", "Usage records given up on (each also logged as UsageRecordLost).");

    public static readonly Counter<long> SettlementsLost = Meter.CreateCounter<long>(
        Names.SettlementsLost, "{settlement}", "Spend settlements given up on (each also logged as SettlementLost).");

    static GatewayTelemetry()
    {
        Meter.CreateObservableGauge(Names.UsageQueueLength, TelemetryGauges.QueueLengths, "{record}",
            "Usage records accepted and not yet written or given up on.");
        Meter.CreateObservableGauge(Names.UpstreamResting, TelemetryGauges.Resting, "{upstream}",
            "1 while an upstream's circuit is open (resting), else 0.");
    }

    /// <summary>Creates the instruments now (they are created with the first use of this class otherwise), so the
    /// observed gauges exist before the first call.</summary>
    public static void EnsureCreated()
    {
        // The static constructor has run by the time this (empty) body does.
    }

    /// <summary>A usage record could not be written.</summary>
    public static void RecordLost()
    {
        if (UsageRecordsLost.Enabled)
        {
            UsageRecordsLost.Add(1);
        }
    }

    /// <summary>A spend settlement could not be written.</summary>
    public static void SettlementLost()
    {
        if (SettlementsLost.Enabled)
        {
            SettlementsLost.Add(1);
        }
    }

    /// <summary>Makes the call's server span the current activity of the calling async method (its logs carry its ids).</summary>
    public static void Resume(Activity? span)
    {
        if (span is not null)
        {
            Activity.Current = span;
        }
    }

    /// <summary><c>2xx</c>, <c>4xx</c>, <c>5xx</c>: a bounded stand-in for the status.</summary>
    public static string StatusClass(int status) => status switch
    {
        < 200 => "1xx",
        < 300 => "2xx",
        < 400 => "3xx",
        < 500 => "4xx",
        _ => "5xx",
    };
}
