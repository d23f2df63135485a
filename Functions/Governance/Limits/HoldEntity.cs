using Azure;
using Azure.Data.Tables;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// One running call's reservation (PartitionKey = key id, RowKey <c>hold|{request id}</c>): its worst-case cost and
/// its stream slot, with an expiry that the call renews while it runs. It is added and removed in the same
/// entity-group transaction as the counters it feeds, so counters and holds always agree; a hold whose instance died
/// expires and is swept, giving its slot and reservation back.
/// </summary>
public sealed class HoldEntity : ITableEntity
{
    public const string RowPrefix = "hold|";

    /// <summary>Just above every <see cref="RowPrefix"/> row key, for range queries.</summary>
    public const string RowEnd = "hold}";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>The spend period the reservation counts in, or null.</summary>
    public string? SpendPeriod { get; set; }

    public long ReservedMicros { get; set; }

    public bool Stream { get; set; }

    public static string RowFor(string requestId) => RowPrefix + requestId;
}
