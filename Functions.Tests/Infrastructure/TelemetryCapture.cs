using System.Collections.Concurrent;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>
/// What one test gateway exported: spans, metric points and log records, whether in memory (the standalone mode) or
/// through the test OTLP receiver (the Functions mode, whose worker is another process). Each item is checked as it
/// arrives against <see cref="KnownSecrets"/>, like every log line (<see cref="SecretScanningLoggerProvider"/>): a
/// violation fails the test whose gateway exported it.
/// </summary>
/// <remarks>
/// The gateway's meter is static, so a gateway's metric exports include the points of other gateways running in the
/// same test process at the same time: tests match points by an attribute of their own (an upstream name).
/// </remarks>
public sealed class TelemetryCapture
{
    private static readonly ConcurrentQueue<string> RunViolations = new();
    private static long _itemsScanned;

    private readonly ConcurrentQueue<CapturedSpan> _spans = new();
    private readonly ConcurrentQueue<CapturedMetricPoint> _metrics = new();
    private readonly ConcurrentQueue<CapturedLog> _logs = new();
    private readonly ConcurrentQueue<string> _violations = new();

    /// <summary>Exported items checked in this test run, over every gateway.</summary>
    public static long ItemsScanned => Interlocked.Read(ref _itemsScanned);

    /// <summary>Violations of every gateway in the test run so far.</summary>
    public static IReadOnlyList<string> AllViolations => [.. RunViolations];

    public IReadOnlyList<string> Violations => [.. _violations];

    public IReadOnlyList<CapturedSpan> Spans => [.. _spans];

    public IReadOnlyList<CapturedMetricPoint> Metrics => [.. _metrics];

    public IReadOnlyList<CapturedLog> Logs => [.. _logs];

    /// <summary>Asks the gateway to export its metrics now (in memory); null where it exports on its own interval.</summary>
    public Action? FlushMetrics { get; set; }

    public void Add(CapturedSpan span)
    {
        Scan(Captured.Render(span));
        _spans.Enqueue(span);
    }

    public void Add(CapturedMetricPoint point)
    {
        Scan(Captured.Render(point));
        _metrics.Enqueue(point);
    }

    public void Add(CapturedLog log)
    {
        Scan(log.Category + " " + log.Text);
        _logs.Enqueue(log);
    }

    /// <summary>Waits until the spans exported so far satisfy <paramref name="done"/> (a span ends after its response does).</summary>
    public Task<IReadOnlyList<CapturedSpan>> WaitForSpansAsync(Func<IReadOnlyList<CapturedSpan>, bool> done, string what) =>
        WaitAsync(() => Spans, done, what, flush: false);

    /// <summary>Waits until a metric point matching <paramref name="match"/> has been exported, and returns the latest such.</summary>
    public async Task<CapturedMetricPoint> WaitForMetricAsync(string name, Func<CapturedMetricPoint, bool> match)
    {
        var points = await WaitAsync(() => Metrics, p => p.Any(m => m.Name == name && match(m)), "metric " + name, flush: true);
        return points.Last(m => m.Name == name && match(m));
    }

    public async Task<IReadOnlyList<T>> WaitAsync<T>(Func<IReadOnlyList<T>> read, Func<IReadOnlyList<T>, bool> done, string what, bool flush = false)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            if (flush)
            {
                FlushMetrics?.Invoke();
            }

            var items = read();
            if (done(items))
            {
                return items;
            }

            if (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"No {what} was exported in time. Exported so far:\n" + Describe());
            }

            await Task.Delay(50, CancellationToken.None);
        }
    }

    /// <summary>Everything exported, one line an item, for failure messages.</summary>
    public string Describe() => string.Join('\n',
        Spans.Select(Captured.Render).Concat(Metrics.Select(Captured.Render).TakeLast(80)).Concat(Logs.Select(static l => $"log {l.TraceId} {l.Text}").TakeLast(40)));

    private void Scan(string text)
    {
        Interlocked.Increment(ref _itemsScanned);
        if (KnownSecrets.FindIn(text) is { } secret)
        {
            var masked = text.Replace(secret, secret[..Math.Min(6, secret.Length)] + "…(masked)", StringComparison.Ordinal);
            _violations.Enqueue(masked);
            RunViolations.Enqueue(masked);
        }
    }
}
