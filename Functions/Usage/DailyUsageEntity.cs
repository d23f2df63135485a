using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Usage;

/// <summary>
/// A daily aggregate as a row of the usage table, in its key's partition next to the records it sums, so a record and
/// its aggregate are written in one transaction (docs/console.md#daily-aggregates). Its row key, <c>day_</c>, the day and
/// a digest of the model and currency, sorts after every record's (those start with digits): a time range of records
/// never reads one, and a range of days reads only them.
/// </summary>
public sealed class DailyUsageEntity : ITableEntity, ITableRow
{
    public const string RowKeyPrefix = "day_";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string Day { get; set; } = "";

    public string Model { get; set; } = "";

    public string Currency { get; set; } = "";

    public long Calls { get; set; }

    public long Errors { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public long CacheWrite5mTokens { get; set; }

    public long CacheWrite1hTokens { get; set; }

    public long CacheReadTokens { get; set; }

    public long WebSearchRequests { get; set; }

    public long WebFetchRequests { get; set; }

    public long CostMicros { get; set; }

    public long UnpricedCalls { get; set; }

    public long EstimatedCalls { get; set; }

    /// <summary>The row key of a day's aggregate: model names are the client's text, so they go in as a digest.</summary>
    public static string RowKeyFor(string day, string model, string currency) =>
        RowKeyPrefix + day + "_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(model + "\n" + currency)).AsSpan(0, 16));

    /// <summary>The first row key of <paramref name="day"/>'s aggregates (and, for the day after a range, the end of it).</summary>
    public static string DayStart(string day) => RowKeyPrefix + day;

    public static DailyUsageEntity From(DailyUsage usage) => new()
    {
        PartitionKey = usage.KeyId,
        RowKey = RowKeyFor(usage.Day, usage.Model, usage.Currency),
        Day = usage.Day,
        Model = usage.Model,
        Currency = usage.Currency,
        Calls = usage.Calls,
        Errors = usage.Errors,
        InputTokens = usage.InputTokens,
        OutputTokens = usage.OutputTokens,
        CacheWrite5mTokens = usage.CacheWrite5mTokens,
        CacheWrite1hTokens = usage.CacheWrite1hTokens,
        CacheReadTokens = usage.CacheReadTokens,
        WebSearchRequests = usage.WebSearchRequests,
        WebFetchRequests = usage.WebFetchRequests,
        CostMicros = usage.CostMicros,
        UnpricedCalls = usage.UnpricedCalls,
        EstimatedCalls = usage.EstimatedCalls,
    };

    public DailyUsage ToUsage() => new()
    {
        KeyId = PartitionKey,
        Day = Day,
        Model = Model,
        Currency = Currency,
        Calls = Calls,
        Errors = Errors,
        InputTokens = InputTokens,
        OutputTokens = OutputTokens,
        CacheWrite5mTokens = CacheWrite5mTokens,
        CacheWrite1hTokens = CacheWrite1hTokens,
        CacheReadTokens = CacheReadTokens,
        WebSearchRequests = WebSearchRequests,
        WebFetchRequests = WebFetchRequests,
        CostMicros = CostMicros,
        UnpricedCalls = UnpricedCalls,
        EstimatedCalls = EstimatedCalls,
    };

    public void WriteProperties(TableRowWriter row)
    {
        row.WriteString(nameof(Day), Day);
        row.WriteString(nameof(Model), Model);
        row.WriteString(nameof(Currency), Currency);
        row.WriteInt64(nameof(Calls), Calls);
        row.WriteInt64(nameof(Errors), Errors);
        row.WriteInt64(nameof(InputTokens), InputTokens);
        row.WriteInt64(nameof(OutputTokens), OutputTokens);
        row.WriteInt64(nameof(CacheWrite5mTokens), CacheWrite5mTokens);
        row.WriteInt64(nameof(CacheWrite1hTokens), CacheWrite1hTokens);
        row.WriteInt64(nameof(CacheReadTokens), CacheReadTokens);
        row.WriteInt64(nameof(WebSearchRequests), WebSearchRequests);
        row.WriteInt64(nameof(WebFetchRequests), WebFetchRequests);
        row.WriteInt64(nameof(CostMicros), CostMicros);
        row.WriteInt64(nameof(UnpricedCalls), UnpricedCalls);
        row.WriteInt64(nameof(EstimatedCalls), EstimatedCalls);
    }
}
