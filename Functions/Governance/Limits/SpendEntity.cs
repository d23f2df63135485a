using Azure;
using Azure.Data.Tables;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// A key's spend in one period (PartitionKey = key id, RowKey <c>spend|2026-11</c> or <c>spend|lifetime</c>): settled
/// spend and the worst cases reserved by calls still running, in micro-units.
/// </summary>
public sealed class SpendEntity : ITableEntity
{
    public const string RowPrefix = "spend|";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public long SpentMicros { get; set; }

    public long ReservedMicros { get; set; }

    public static string RowFor(string periodKey) => RowPrefix + periodKey;
}
