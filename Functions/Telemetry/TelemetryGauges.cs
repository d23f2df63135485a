using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Telemetry;

/// <summary>
/// The observed gauges (usage queue length, resting upstreams) read the gateway's own state when a metrics exporter
/// collects. The meter is static; the state belongs to a host, which takes part only while telemetry is configured
/// and it runs.
/// </summary>
public sealed class TelemetryGauges(UsageWriter writer, UpstreamHealth health) : IHostedService
{
    private static readonly ConcurrentDictionary<TelemetryGauges, byte> Running = new();

    private UsageWriter Writer { get; } = writer;

    private UpstreamHealth Health { get; } = health;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        GatewayTelemetry.EnsureCreated();
        Running.TryAdd(this, 0);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Running.TryRemove(this, out _);
        return Task.CompletedTask;
    }

    internal static IEnumerable<Measurement<long>> QueueLengths()
    {
        foreach (var gauges in Running.Keys)
        {
            yield return new Measurement<long>(gauges.Writer.Outstanding);
        }
    }

    internal static IEnumerable<Measurement<int>> Resting()
    {
        foreach (var gauges in Running.Keys)
        {
            foreach (var deployment in gauges.Health.Deployments)
            {
                // 1 while the deployment rests, or any of its models does (docs/faults.md#health).
                var resting = deployment.Transport.IsResting || deployment.Credentials.IsResting ||
                    deployment.Models.Any(static m => m.Breaker.IsResting || m.RateLimitRest is not null);
                yield return new Measurement<int>(resting ? 1 : 0, new KeyValuePair<string, object?>(TelemetryNames.Attributes.Upstream, deployment.Name));
            }
        }
    }
}
