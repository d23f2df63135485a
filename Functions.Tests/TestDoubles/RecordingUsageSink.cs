using System.Collections.Concurrent;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.TestDoubles;

/// <summary>A usage sink that keeps every record it is given, for tests that check what a call recorded.</summary>
public sealed class RecordingUsageSink : IUsageSink
{
    private readonly ConcurrentQueue<UsageRecord> _records = new();

    public IReadOnlyList<UsageRecord> Records => [.. _records];

    public void Submit(UsageRecord record) => _records.Enqueue(record);
}
