using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Qhaigc.Bench.GatewayHost;

/// <summary>
/// Counts the gateway's outgoing HTTP requests by method and port, from .NET's own <c>System.Net.Http</c> metrics,
/// so the benchmark can tell table reads (GET to the storage port) from usage writes and upstream calls.
/// </summary>
public sealed class OutboundRequestCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public OutboundRequestCounter()
    {
        _listener.InstrumentPublished = static (instrument, listener) =>
        {
            if (instrument.Meter.Name == "System.Net.Http" && instrument.Name == "http.client.request.duration")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            object? method = null, port = null;
            foreach (var tag in tags)
            {
                switch (tag.Key)
                {
                    case "http.request.method":
                        method = tag.Value;
                        break;
                    case "server.port":
                        port = tag.Value;
                        break;
                }
            }

            _counts.AddOrUpdate($"{method} {port}", 1, static (_, count) => count + 1);
        });
        // Started beside the gateway's own start, not before it: the first MeterListener initialises the runtime's
        // metrics, work the gateway itself never does, which a cold start must not count against it.
        _ = Task.Run(_listener.Start);
    }

    /// <summary>"METHOD PORT" → completed requests so far.</summary>
    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>(_counts, StringComparer.Ordinal);

    public void Dispose() => _listener.Dispose();
}
