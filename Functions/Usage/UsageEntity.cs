using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Usage;

/// <summary>
/// A usage record's table row. PartitionKey is the key id and RowKey the start time in ticks followed by the request
/// id: a key's records for a time range are one range query (no table scan), and rewriting the same call's record
/// lands on the same row (idempotent).
/// </summary>
public sealed class UsageEntity : ITableEntity, ITableRow
{
    /// <summary>Table Storage caps a string property at 64 KiB (32 K UTF-16 characters).</summary>
    private const int MaxStringLength = 32_000;

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string RequestId { get; set; } = "";

    public string Endpoint { get; set; } = "";

    public DateTimeOffset StartedAt { get; set; }

    public string? UpstreamRequestId { get; set; }

    /// <summary>The message batch of a <c>messages.batch</c> record.</summary>
    public string? BatchId { get; set; }

    public string? Model { get; set; }

    public string? Upstream { get; set; }

    public string? UpstreamModel { get; set; }

    public bool Stream { get; set; }

    public int Status { get; set; }

    public string? ErrorType { get; set; }

    public string State { get; set; } = "";

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public long CacheCreationInputTokens { get; set; }

    public long? CacheCreation5mInputTokens { get; set; }

    public long? CacheCreation1hInputTokens { get; set; }

    public long CacheReadInputTokens { get; set; }

    public long? WebSearchRequests { get; set; }

    public long? WebFetchRequests { get; set; }

    public string? ServiceTier { get; set; }

    public string? Speed { get; set; }

    public string? InferenceGeo { get; set; }

    public string? RawUsage { get; set; }

    public bool Estimated { get; set; }

    public double DurationMs { get; set; }

    public double? TimeToFirstByteMs { get; set; }

    public int? ClientRetryCount { get; set; }

    public string? ClientSessionId { get; set; }

    /// <summary>The cost in micro-units (whole millionths of the currency unit), so sums are exact; null on rows without a price.</summary>
    public long? CostMicros { get; set; }

    public string? Currency { get; set; }

    public string? PriceVersion { get; set; }
    public int? UpstreamAttempts { get; set; }

    /// <summary>The call's W3C trace id (docs/usage-records.md).</summary>
    public string? TraceId { get; set; }

    /// <summary>A file operation's size in bytes (docs/usage-records.md).</summary>
    public long? Bytes { get; set; }

    public static string RowKeyFor(DateTimeOffset startedAt, string requestId) =>
        RowKeyPrefix(startedAt) + "_" + requestId;

    /// <summary>The sortable part of a row key: UTC ticks, zero-padded to 19 digits.</summary>
    public static string RowKeyPrefix(DateTimeOffset time) =>
        time.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);

    public static UsageEntity From(UsageRecord record) => new()
    {
        PartitionKey = record.KeyId,
        RowKey = RowKeyFor(record.StartedAt, record.RequestId),
        RequestId = record.RequestId,
        Endpoint = record.Endpoint,
        StartedAt = record.StartedAt,
        UpstreamRequestId = Clip(record.UpstreamRequestId),
        BatchId = Clip(record.BatchId),
        Model = Clip(record.Model),
        Upstream = record.Upstream,
        UpstreamModel = Clip(record.UpstreamModel),
        Stream = record.Stream,
        Status = record.Status,
        ErrorType = Clip(record.ErrorType),
        State = record.State.ToWire(),
        InputTokens = record.InputTokens,
        OutputTokens = record.OutputTokens,
        CacheCreationInputTokens = record.CacheCreationInputTokens,
        CacheCreation5mInputTokens = record.CacheCreation5mInputTokens,
        CacheCreation1hInputTokens = record.CacheCreation1hInputTokens,
        CacheReadInputTokens = record.CacheReadInputTokens,
        WebSearchRequests = record.WebSearchRequests,
        WebFetchRequests = record.WebFetchRequests,
        ServiceTier = ClipOption(record.ServiceTier),
        Speed = ClipOption(record.Speed),
        InferenceGeo = ClipOption(record.InferenceGeo),
        RawUsage = Clip(record.RawUsage),
        Estimated = record.Estimated,
        DurationMs = record.DurationMs,
        TimeToFirstByteMs = record.TimeToFirstByteMs,
        ClientRetryCount = record.ClientRetryCount,
        ClientSessionId = Clip(record.ClientSessionId),
        CostMicros = record.Cost is { } cost ? Governance.Money.ToMicros(cost) : null,
        Currency = record.Currency,
        PriceVersion = Clip(record.PriceVersion),
        UpstreamAttempts = record.UpstreamAttempts,
        TraceId = record.TraceId,
        Bytes = record.Bytes,
    };

    /// <summary>
    /// The row as <see cref="TableBatchClient"/> writes it: every property of this class with the type the SDK gives it
    /// (a test writes rows both ways and compares them).
    /// </summary>
    public void WriteProperties(TableRowWriter row)
    {
        row.WriteString(nameof(RequestId), RequestId);
        row.WriteString(nameof(Endpoint), Endpoint);
        row.WriteDateTime(nameof(StartedAt), StartedAt);
        row.WriteString(nameof(UpstreamRequestId), UpstreamRequestId);
        row.WriteString(nameof(BatchId), BatchId);
        row.WriteString(nameof(Model), Model);
        row.WriteString(nameof(Upstream), Upstream);
        row.WriteString(nameof(UpstreamModel), UpstreamModel);
        row.WriteBoolean(nameof(Stream), Stream);
        row.WriteInt32(nameof(Status), Status);
        row.WriteString(nameof(ErrorType), ErrorType);
        row.WriteString(nameof(State), State);
        row.WriteInt64(nameof(InputTokens), InputTokens);
        row.WriteInt64(nameof(OutputTokens), OutputTokens);
        row.WriteInt64(nameof(CacheCreationInputTokens), CacheCreationInputTokens);
        row.WriteInt64(nameof(CacheCreation5mInputTokens), CacheCreation5mInputTokens);
        row.WriteInt64(nameof(CacheCreation1hInputTokens), CacheCreation1hInputTokens);
        row.WriteInt64(nameof(CacheReadInputTokens), CacheReadInputTokens);
        row.WriteInt64(nameof(WebSearchRequests), WebSearchRequests);
        row.WriteInt64(nameof(WebFetchRequests), WebFetchRequests);
        row.WriteString(nameof(ServiceTier), ServiceTier);
        row.WriteString(nameof(Speed), Speed);
        row.WriteString(nameof(InferenceGeo), InferenceGeo);
        row.WriteString(nameof(RawUsage), RawUsage);
        row.WriteBoolean(nameof(Estimated), Estimated);
        row.WriteDouble(nameof(DurationMs), DurationMs);
        row.WriteDouble(nameof(TimeToFirstByteMs), TimeToFirstByteMs);
        row.WriteInt32(nameof(ClientRetryCount), ClientRetryCount);
        row.WriteString(nameof(ClientSessionId), ClientSessionId);
        row.WriteInt64(nameof(CostMicros), CostMicros);
        row.WriteString(nameof(Currency), Currency);
        row.WriteString(nameof(PriceVersion), PriceVersion);
        row.WriteInt32(nameof(UpstreamAttempts), UpstreamAttempts);
        row.WriteString(nameof(TraceId), TraceId);
        row.WriteInt64(nameof(Bytes), Bytes);
    }

    public UsageRecord ToRecord() => new()
    {
        RequestId = RequestId,
        KeyId = PartitionKey,
        Endpoint = Endpoint,
        StartedAt = StartedAt,
        UpstreamRequestId = UpstreamRequestId,
        BatchId = BatchId,
        Model = Model,
        Upstream = Upstream,
        UpstreamModel = UpstreamModel,
        Stream = Stream,
        Status = Status,
        ErrorType = ErrorType,
        State = UsageStates.FromWire(State),
        InputTokens = InputTokens,
        OutputTokens = OutputTokens,
        CacheCreationInputTokens = CacheCreationInputTokens,
        CacheCreation5mInputTokens = CacheCreation5mInputTokens,
        CacheCreation1hInputTokens = CacheCreation1hInputTokens,
        CacheReadInputTokens = CacheReadInputTokens,
        WebSearchRequests = WebSearchRequests,
        WebFetchRequests = WebFetchRequests,
        ServiceTier = ServiceTier,
        Speed = Speed,
        InferenceGeo = InferenceGeo,
        RawUsage = RawUsage,
        Estimated = Estimated,
        DurationMs = DurationMs,
        TimeToFirstByteMs = TimeToFirstByteMs,
        ClientRetryCount = ClientRetryCount,
        ClientSessionId = ClientSessionId,
        Cost = CostMicros is { } micros ? Governance.Money.FromMicros(micros) : null,
        Currency = Currency,
        PriceVersion = PriceVersion,
        UpstreamAttempts = UpstreamAttempts,
        TraceId = TraceId,
        Bytes = Bytes,
    };

    /// <summary>Option values are short words; an upstream's longer text is cut (it is kept whole in the raw usage).</summary>
    private static string? ClipOption(string? value) => value is { Length: > 64 } ? value[..64] : value;

    private static string? Clip(string? value) => value is { Length: > MaxStringLength } ? value[..MaxStringLength] : value;
}
