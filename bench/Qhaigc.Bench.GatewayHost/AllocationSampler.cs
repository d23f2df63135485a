using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text;

namespace Qhaigc.Bench.GatewayHost;

/// <summary>
/// Where the gateway's allocations go, by type: the runtime reports a sample about every 100 KB allocated
/// (GCAllocationTick), with the type of the object that crossed the mark. Started only when asked
/// (<c>BENCH_ALLOCATION_SAMPLES=1</c>); read at <c>/_bench/allocations</c>.
/// </summary>
public sealed class AllocationSampler : EventListener
{
    private const int AllocationTickEventId = 10;
    private readonly ConcurrentDictionary<string, long> _bytesByType = new(StringComparer.Ordinal);

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventId != AllocationTickEventId || eventData.Payload is null || eventData.PayloadNames is null)
        {
            return;
        }

        var type = eventData.PayloadNames.IndexOf("TypeName") is var t and >= 0 ? eventData.Payload[t] as string ?? "?" : "?";
        var amount = eventData.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(eventData.Payload[a], CultureInfo.InvariantCulture) : 100_000;
        _bytesByType.AddOrUpdate(type, amount, (_, total) => total + amount);
    }

    public void Reset() => _bytesByType.Clear();

    public string Report()
    {
        var total = _bytesByType.Values.Sum();
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"sampled bytes: {total}\n");
        foreach (var (type, bytes) in _bytesByType.OrderByDescending(static pair => pair.Value).Take(40))
        {
            text.Append(CultureInfo.InvariantCulture, $"{100.0 * bytes / Math.Max(1, total),5:0.0}%  {type}\n");
        }

        return text.ToString();
    }
}
