using Azure;
using Azure.Data.Tables;

namespace Qhaigc.Functions.Governance;

/// <summary>A key's running streams (PartitionKey = key id, RowKey <c>streams</c>); each one also has a hold row with an expiry.</summary>
public sealed class StreamsEntity : ITableEntity
{
    public const string Row = "streams";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = Row;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public long Active { get; set; }
}
