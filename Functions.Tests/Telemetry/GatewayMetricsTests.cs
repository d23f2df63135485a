using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Telemetry;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Telemetry;

/// <summary>
/// The operator's alarms (docs/telemetry.md#the-alerts) read instruments that fire far from any call: a usage record
/// given up on, an upstream resting. Measured here with a <see cref="MeterListener"/> on the gateway's meter.
/// </summary>
public sealed class GatewayMetricsTests
{
    [Fact]
    public void RecordsLost_CountsEachUsageRecordTheWriterGivesUpOn()
    {
        // Arrange: a writer not started, whose queue holds one record; measurements of this thread only (the meter is
        // shared by every gateway of the test run).
        var options = Options.Create(new GatewayOptions { Usage = new UsageOptions { QueueCapacity = 1 } });
        var writer = new UsageWriter(Substitute.For<IUsageStore>(), TimeProvider.System, options, NullLogger<UsageWriter>.Instance);
        var thread = Environment.CurrentManagedThreadId;
        long lost = 0;
        using var listener = Listen(TelemetryNames.Metrics.UsageRecordsLost, (long value) =>
        {
            if (Environment.CurrentManagedThreadId == thread)
            {
                lost += value;
            }
        });

        // Act: the second and third do not fit.
        foreach (var id in new[] { "req_1", "req_2", "req_3" })
        {
            writer.Submit(new UsageRecord { RequestId = id, KeyId = "key_metrics", Endpoint = "messages", StartedAt = DateTimeOffset.UtcNow, State = UsageState.Complete });
        }

        // Assert
        Assert.Equal(2, lost);
    }

    [Fact]
    public async Task UpstreamResting_IsOneWhileAModelOfTheUpstreamRests_ThenZero()
    {
        // Arrange: health whose breakers open on one failure, for a minute of fake time, under a running gauge registration.
        var time = new FakeTimeProvider();
        var options = Options.Create(new GatewayOptions
        {
            Resilience = new ResilienceOptions { BreakerFailureThreshold = 1, BreakerDuration = TimeSpan.FromMinutes(1) },
        });
        var health = new UpstreamHealth(options, time, NullLogger<UpstreamHealth>.Instance);
        var upstream = "resting-" + Guid.NewGuid().ToString("N")[..8];
        var writer = new UsageWriter(Substitute.For<IUsageStore>(), time, options, NullLogger<UsageWriter>.Instance);
        var gauges = new TelemetryGauges(writer, health);
        await gauges.StartAsync(CancellationToken.None);
        var observed = new List<int>();
        using var listener = Listen(TelemetryNames.Metrics.UpstreamResting, (int value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == TelemetryNames.Attributes.Upstream && (string?)tag.Value == upstream)
                {
                    observed.Add(value);
                }
            }
        });

        // Act
        Assert.True(health.TryAcquire(upstream, "claude-test", out var lease, out _));
        Assert.NotNull(lease!.Failed(UpstreamFault.Model, "529 overloaded_error"));
        listener.RecordObservableInstruments();
        time.Advance(TimeSpan.FromMinutes(2));
        listener.RecordObservableInstruments();
        await gauges.StopAsync(CancellationToken.None);
        listener.RecordObservableInstruments();

        // Assert: resting, then rested (its probe not yet taken), then gone with the host.
        Assert.Equal([1, 0], observed);
    }

    private static MeterListener Listen<T>(string instrument, Action<T> measured)
        where T : struct =>
        Listen<T>(instrument, (value, _) => measured(value));

    private static MeterListener Listen<T>(string instrument, MeasurementCallback<T> measured)
        where T : struct
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (published, meterListener) =>
            {
                if (published.Meter.Name == TelemetryNames.Source && published.Name == instrument)
                {
                    meterListener.EnableMeasurementEvents(published);
                }
            },
        };
        listener.SetMeasurementEventCallback<T>((_, value, tags, _) => measured(value, tags));
        listener.Start();
        return listener;
    }

    private delegate void MeasurementCallback<T>(T value, ReadOnlySpan<KeyValuePair<string, object?>> tags);
}
