using System.Diagnostics;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Tests.Telemetry.Otlp;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>
/// A real OTLP/HTTP endpoint (protobuf, 127.0.0.1, free port) that decodes what a gateway exports to it
/// (<c>/v1/traces</c>, <c>/v1/metrics</c>, <c>/v1/logs</c>) into a <see cref="TelemetryCapture"/>. A gateway points at it
/// with the standard variables (<see cref="GatewaySettings"/>).
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app, Uri endpoint, TelemetryCapture capture)
    {
        _app = app;
        Endpoint = endpoint;
        Capture = capture;
    }

    public Uri Endpoint { get; }

    public TelemetryCapture Capture { get; }

    /// <summary>Requests decoded so far, by path.</summary>
    public int Requests => _requests;

    private int _requests;

    public static async Task<OtlpReceiver> StartAsync(TelemetryCapture? capture = null)
    {
        capture ??= new TelemetryCapture();
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app, new Uri($"http://127.0.0.1:{port}"), capture);
        app.MapPost("/v1/traces", (HttpContext context) => receiver.ReceiveAsync(context, ExportTraceServiceRequest.Parser, receiver.Traces));
        app.MapPost("/v1/metrics", (HttpContext context) => receiver.ReceiveAsync(context, ExportMetricsServiceRequest.Parser, receiver.Metrics));
        app.MapPost("/v1/logs", (HttpContext context) => receiver.ReceiveAsync(context, ExportLogsServiceRequest.Parser, receiver.Logs));
        await app.StartAsync();
        return receiver;
    }

    /// <summary>
    /// The standard variables that send a gateway's traces, metrics and logs here over OTLP/HTTP, exported often so
    /// that tests need not wait long.
    /// </summary>
    public IEnumerable<KeyValuePair<string, string?>> GatewaySettings() =>
    [
        new("OTEL_EXPORTER_OTLP_ENDPOINT", Endpoint.ToString().TrimEnd('/')),
        new("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        new("OTEL_METRIC_EXPORT_INTERVAL", "250"),
        new("OTEL_BSP_SCHEDULE_DELAY", "100"),
        new("OTEL_BLRP_SCHEDULE_DELAY", "100"),
    ];

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ReceiveAsync<T>(HttpContext context, MessageParser<T> parser, Action<T> decode)
        where T : IMessage<T>
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        decode(parser.ParseFrom(body.ToArray()));
        Interlocked.Increment(ref _requests);
        // An empty Export*ServiceResponse: full success.
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/x-protobuf";
    }

    private void Traces(ExportTraceServiceRequest request)
    {
        foreach (var scope in request.ResourceSpans.SelectMany(static r => r.ScopeSpans))
        {
            foreach (var span in scope.Spans)
            {
                Capture.Add(new CapturedSpan(
                    scope.Scope?.Name ?? "",
                    Convert.ToHexStringLower(span.TraceId.Span),
                    Convert.ToHexStringLower(span.SpanId.Span),
                    span.ParentSpanId.IsEmpty ? null : Convert.ToHexStringLower(span.ParentSpanId.Span),
                    span.Name,
                    // OTLP's SPAN_KIND_INTERNAL is 1, SERVER 2, CLIENT 3 ...; ActivityKind counts from Internal = 0.
                    (ActivityKind)Math.Max(0, span.Kind - 1),
                    span.Status?.Code == 2,
                    Attributes(span.Attributes),
                    [.. span.Events.Select(static e => new CapturedEvent(e.Name, Attributes(e.Attributes)))]));
            }
        }
    }

    private void Metrics(ExportMetricsServiceRequest request)
    {
        foreach (var metric in request.ResourceMetrics.SelectMany(static r => r.ScopeMetrics).SelectMany(static s => s.Metrics))
        {
            switch (metric.DataCase)
            {
                case Metric.DataOneofCase.Sum:
                    Numbers(metric.Name, metric.Sum.DataPoints);
                    break;
                case Metric.DataOneofCase.Gauge:
                    Numbers(metric.Name, metric.Gauge.DataPoints);
                    break;
                case Metric.DataOneofCase.Histogram:
                    foreach (var point in metric.Histogram.DataPoints)
                    {
                        Capture.Add(new CapturedMetricPoint(metric.Name, Attributes(point.Attributes), point.Sum, (long)point.Count));
                    }

                    break;
            }
        }
    }

    private void Numbers(string name, RepeatedField<NumberDataPoint> points)
    {
        foreach (var point in points)
        {
            var value = point.ValueCase == NumberDataPoint.ValueOneofCase.AsInt ? point.AsInt : point.AsDouble;
            Capture.Add(new CapturedMetricPoint(name, Attributes(point.Attributes), value, 1));
        }
    }

    private void Logs(ExportLogsServiceRequest request)
    {
        foreach (var scope in request.ResourceLogs.SelectMany(static r => r.ScopeLogs))
        {
            foreach (var record in scope.LogRecords)
            {
                var attributes = Attributes(record.Attributes);
                var text = $"{Captured.Text(Value(record.Body))}{Captured.Render(attributes)}";
                Capture.Add(new CapturedLog(
                    record.TraceId.IsEmpty ? null : Convert.ToHexStringLower(record.TraceId.Span),
                    scope.Scope?.Name ?? "",
                    text));
            }
        }
    }

    private static Dictionary<string, object?> Attributes(RepeatedField<KeyValue> attributes) =>
        attributes.ToDictionary(static a => a.Key, static a => Value(a.Value));

    private static object? Value(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue,
        AnyValue.ValueOneofCase.IntValue => value.IntValue,
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue,
        AnyValue.ValueOneofCase.ArrayValue => value.ArrayValue.Values.Select(Value).ToList(),
        AnyValue.ValueOneofCase.KvlistValue => Captured.Render(Attributes(value.KvlistValue.Values)),
        AnyValue.ValueOneofCase.BytesValue => Convert.ToHexStringLower(value.BytesValue.Span),
        _ => null,
    };
}
