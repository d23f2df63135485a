using Azure;
using Azure.Data.Tables;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// The mark of a reservation settled once and for all (PartitionKey = key id, RowKey <c>settled|{request id}</c>),
/// written in the same transaction that settles it (<see cref="ILimitLedger.SettleOnceAsync"/>): a second settlement of
/// the same reservation finds it and changes nothing. Outside the <see cref="HoldEntity"/> range, so no sweep removes it.
/// </summary>
public sealed class SettledEntity : ITableEntity
{
    public const string RowPrefix = "settled|";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    /// <summary>The cost the reservation was settled at, in micro-units.</summary>
    public long CostMicros { get; set; }

    public static string RowFor(string requestId) => RowPrefix + requestId;
}
