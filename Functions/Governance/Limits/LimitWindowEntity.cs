using Azure;
using Azure.Data.Tables;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// A key's current minute window (PartitionKey = key id, RowKey <c>window</c>). One row per key, reused: a row whose
/// window has passed counts as empty and is overwritten by the next call, so windows never pile up.
/// </summary>
public sealed class LimitWindowEntity : ITableEntity
{
    public const string Row = "window";

    /// <summary>The minute window of a key's <c>count_tokens</c> calls, counted apart (only its requests).</summary>
    public const string CountTokensRow = "window-count-tokens";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = Row;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public DateTimeOffset WindowStart { get; set; }

    public long Requests { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }
}
