using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime;
using System.Text;
using Qhaigc.Bench.Counters;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Bench.GatewayHost;

/// <summary>What /proc cannot tell: allocated bytes, GC counts, the heap, the thread pool, outgoing requests, the usage queue.</summary>
public static class RuntimeCounters
{
    public static string Json(OutboundRequestCounter? outbound, UsageWriter usage, bool live = false)
    {
        var json = ProcessCounters.AppendTo(new StringBuilder("{"), live);
        json.Append(CultureInfo.InvariantCulture, $"\"allocatedBytes\":{GC.GetTotalAllocatedBytes(precise: true)},");
        json.Append(CultureInfo.InvariantCulture, $"\"gen0\":{GC.CollectionCount(0)},\"gen1\":{GC.CollectionCount(1)},\"gen2\":{GC.CollectionCount(2)},");
        json.Append(CultureInfo.InvariantCulture, $"\"gcPauseMs\":{GC.GetTotalPauseDuration().TotalMilliseconds:0.###},");
        json.Append(CultureInfo.InvariantCulture, $"\"serverGc\":{(GCSettings.IsServerGC ? 1 : 0)},");
        // A Debug build of the gateway would measure the compiler's settings, not the gateway.
        var debuggable = typeof(UsageWriter).Assembly.GetCustomAttribute<DebuggableAttribute>();
        json.Append(CultureInfo.InvariantCulture, $"\"gatewayOptimized\":{(debuggable is null || !debuggable.IsJITOptimizerDisabled ? 1 : 0)},");
        json.Append(CultureInfo.InvariantCulture, $"\"usageOutstanding\":{usage.Outstanding},\"outbound\":{{");
        var first = true;
        foreach (var (key, count) in outbound?.Snapshot() ?? new Dictionary<string, long>())
        {
            json.Append(first ? "" : ",").Append('"').Append(key).Append("\":").Append(count.ToString(CultureInfo.InvariantCulture));
            first = false;
        }

        return json.Append("}}").ToString();
    }
}
