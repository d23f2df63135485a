using System.Collections;
using System.Diagnostics;
using System.Text;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Qhaigc.Functions.Telemetry;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>
/// OpenTelemetry's in-memory exporters for a standalone test gateway, each handing what it exports to a
/// <see cref="TelemetryCapture"/> as it arrives (a log record is pooled by the SDK, so it is read at once).
/// </summary>
public static class InMemoryTelemetry
{
    public static TelemetryExport For(TelemetryCapture capture) => new()
    {
        Traces = tracing => tracing.AddInMemoryExporter(new Into<Activity>(activity => capture.Add(ToSpan(activity)))),
        Metrics = metrics => metrics.AddInMemoryExporter(new Into<MetricSnapshot>(snapshot =>
        {
            foreach (var point in ToPoints(snapshot))
            {
                capture.Add(point);
            }
        })),
        Logs = logs => logs.AddInMemoryExporter(new Into<LogRecord>(record => capture.Add(ToLog(record)))),
    };

    private static CapturedSpan ToSpan(Activity activity) => new(
        activity.Source.Name,
        activity.TraceId.ToHexString(),
        activity.SpanId.ToHexString(),
        activity.ParentSpanId == default ? null : activity.ParentSpanId.ToHexString(),
        activity.DisplayName,
        activity.Kind,
        activity.Status == ActivityStatusCode.Error,
        activity.TagObjects.ToDictionary(static t => t.Key, static t => t.Value),
        [.. activity.Events.Select(static e => new CapturedEvent(e.Name, e.Tags.ToDictionary(static t => t.Key, static t => t.Value)))]);

    private static IEnumerable<CapturedMetricPoint> ToPoints(MetricSnapshot snapshot)
    {
        foreach (var point in snapshot.MetricPoints)
        {
            var tags = new Dictionary<string, object?>();
            foreach (var tag in point.Tags)
            {
                tags[tag.Key] = tag.Value;
            }

            var (value, count) = snapshot.MetricType switch
            {
                MetricType.LongSum or MetricType.LongSumNonMonotonic => (point.GetSumLong(), 1L),
                MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => (point.GetSumDouble(), 1L),
                MetricType.LongGauge => (point.GetGaugeLastValueLong(), 1L),
                MetricType.DoubleGauge => (point.GetGaugeLastValueDouble(), 1L),
                MetricType.Histogram => (point.GetHistogramSum(), point.GetHistogramCount()),
                _ => (double.NaN, 0L),
            };
            yield return new CapturedMetricPoint(snapshot.Name, tags, value, count);
        }
    }

    private static CapturedLog ToLog(LogRecord record)
    {
        var text = new StringBuilder().Append(record.EventId.Id).Append(' ').Append(record.FormattedMessage ?? record.Body);
        foreach (var attribute in record.Attributes ?? [])
        {
            text.Append(' ').Append(attribute.Key).Append('=').Append(Captured.Text(attribute.Value));
        }

        if (record.Exception is { } exception)
        {
            text.Append(' ').Append(exception);
        }

        return new CapturedLog(
            record.TraceId == default ? null : record.TraceId.ToHexString(),
            record.CategoryName ?? "",
            text.ToString());
    }

    /// <summary>A collection that only receives: each item goes to <paramref name="add"/> as the exporter adds it.</summary>
    private sealed class Into<T>(Action<T> add) : ICollection<T>
    {
        public int Count => 0;

        public bool IsReadOnly => false;

        public void Add(T item) => add(item);

        public void Clear()
        {
        }

        public bool Contains(T item) => false;

        public void CopyTo(T[] array, int arrayIndex)
        {
        }

        public bool Remove(T item) => false;

        public IEnumerator<T> GetEnumerator() => Enumerable.Empty<T>().GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
