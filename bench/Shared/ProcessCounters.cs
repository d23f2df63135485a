using System.Globalization;
using System.Text;

namespace Qhaigc.Bench.Counters;

/// <summary>
/// The runtime's own counters that a scale run reads from the bench gateway host and the bare proxy alike: the managed
/// heap (live bytes after a full collection when asked, else the heap as the last collection left it), and the thread
/// pool (threads, queued work items, completed work items: a queue that stays long while threads are added one by one
/// is starvation), and the methods the JIT has compiled so far (every tier: a count that still grows under a steady load
/// means code is still being recompiled on its way to its optimized tier). Written into the JSON of <c>/_bench/runtime</c>.
/// </summary>
public static class ProcessCounters
{
    /// <summary>Appends <c>"name":value,</c> pairs; <paramref name="live"/> forces a full blocking collection first.</summary>
    public static StringBuilder AppendTo(StringBuilder json, bool live)
    {
        long liveHeap = -1;
        if (live)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
            GC.WaitForPendingFinalizers();
            liveHeap = GC.GetTotalMemory(forceFullCollection: false);
        }

        var info = GC.GetGCMemoryInfo();
        json.Append(CultureInfo.InvariantCulture, $"\"liveHeapBytes\":{liveHeap},\"heapSizeBytes\":{info.HeapSizeBytes},");
        json.Append(CultureInfo.InvariantCulture, $"\"committedBytes\":{info.TotalCommittedBytes},");
        json.Append(CultureInfo.InvariantCulture, $"\"threadPoolThreads\":{ThreadPool.ThreadCount},");
        json.Append(CultureInfo.InvariantCulture, $"\"threadPoolQueue\":{ThreadPool.PendingWorkItemCount},");
        json.Append(CultureInfo.InvariantCulture, $"\"threadPoolCompleted\":{ThreadPool.CompletedWorkItemCount},");
        json.Append(CultureInfo.InvariantCulture, $"\"jitCompiledMethods\":{System.Runtime.JitInfo.GetCompiledMethodCount()},");
        return json;
    }
}
