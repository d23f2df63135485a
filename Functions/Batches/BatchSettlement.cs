using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// Settles message batches once they have ended (docs/batches.md#billing). For each pending batch of every key (deleted
/// keys included): its status from the upstream (kept in <see cref="BatchState.ProcessingStatus"/>); once
/// <c>ended</c>, its results streamed line by line, one usage record per result (<see cref="Endpoint"/>, at batch
/// prices, with a request id made of the batch id and the result's place, so writing a result again replaces its row);
/// the reservation settled with the results' total cost, once (<see cref="ILimitLedger.SettleOnceAsync"/>); and the
/// batch marked settled. Every change of the batch's state is conditional on the version read, so of several instances
/// (or timer runs) working on one batch, one goes on and the others stop; a run that dies half way resumes after the
/// last results it recorded (<see cref="BatchState.ResultsRecorded"/>).
/// </summary>
public sealed partial class BatchSettlement(
    IOwnedObjectStore objects, IBatchUpstream upstream, IUsageStore usage, ILimitLedger ledger, PriceTable prices, TimeProvider time,
    IOptions<BatchSettlementOptions> options, ILogger<BatchSettlement> logger)
{
    private readonly TimeSpan _goneAfter = options.Value.GoneAfter;

    /// <summary>The endpoint of a batch result's usage record.</summary>
    public const string Endpoint = "messages.batch";

    /// <summary>Records written together, and progress saved after each such group: one table transaction.</summary>
    internal const int RecordsPerWrite = 100;

    private const string Ended = "ended";

    /// <summary>Settles every pending batch that has ended; returns how many this run settled.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        // Listed first, so that the query is not held open while batches are settled.
        var pending = new List<OwnedObject>();
        await foreach (var batch in objects.PendingAsync(OwnedKinds.Batch, cancellationToken))
        {
            pending.Add(batch);
        }

        var settled = 0;
        foreach (var batch in pending)
        {
            try
            {
                settled += await SettleAsync(batch, cancellationToken) ? 1 : 0;
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Tried again at the next run: records are idempotent and the ledger settles once.
                Log.SettlementFailed(logger, batch.Id, batch.OwnerKeyId, exception);
            }
        }

        return settled;
    }

    /// <summary>Settles one batch if it has ended; false when it has not, or another instance holds a newer version.</summary>
    public async Task<bool> SettleAsync(OwnedObject batch, CancellationToken cancellationToken)
    {
        var state = BatchStates.Read(batch.State);
        if (state.SettledAt is not null)
        {
            return await objects.ReplaceAsync(batch with { Pending = false }, cancellationToken) is not null;
        }

        var described = await upstream.RetrieveAsync(batch.Upstream, batch.UpstreamId, cancellationToken);
        if (described is null)
        {
            var now = time.GetUtcNow();
            if (state.GoneSince is not { } since)
            {
                // Not gone yet: asked again at the next runs, billed as gone only if the upstream keeps not knowing it.
                Log.BatchNotFound(logger, batch.Id, batch.OwnerKeyId, _goneAfter);
                await objects.ReplaceAsync(batch with { State = BatchStates.Write(state with { GoneSince = now }) }, cancellationToken);
                return false;
            }

            return now - since >= _goneAfter && await SettleGoneAsync(batch, state, cancellationToken);
        }

        var (status, endedAt) = Describe(described);
        if ((status is not null && status != state.ProcessingStatus) || state.GoneSince is not null)
        {
            state = state with { ProcessingStatus = status ?? state.ProcessingStatus, GoneSince = null };
            if (await objects.ReplaceAsync(batch with { State = BatchStates.Write(state) }, cancellationToken) is not { } refreshed)
            {
                return false;
            }

            batch = refreshed;
        }

        if (status != Ended)
        {
            return false;
        }

        long total = 0;
        var count = 0;
        var batchWrite = new List<UsageRecord>(RecordsPerWrite);
        await using (var results = await upstream.OpenResultsAsync(batch.Upstream, batch.UpstreamId, cancellationToken))
        {
            await foreach (var result in BatchResultReader.ReadAsync(results, cancellationToken))
            {
                // A result without usage (errored, canceled, expired) costs nothing, whatever its model.
                var record = result.Usage is null
                    ? Record(batch, state, result, endedAt) with { Cost = 0, Currency = prices.Currency, PriceVersion = prices.Version }
                    : PriceResult(Record(batch, state, result, endedAt), state.Models);
                total = Add(total, record.Cost is { } cost ? Money.ToMicros(cost) : 0);
                count++;
                if (result.Index < state.ResultsRecorded)
                {
                    continue;
                }

                batchWrite.Add(record);
                if (batchWrite.Count == RecordsPerWrite)
                {
                    if (await RecordAsync(batch, state, batchWrite, cancellationToken) is not ({ } next, var progress))
                    {
                        return false;
                    }

                    (batch, state) = (next, progress);
                }
            }
        }

        if (batchWrite.Count > 0)
        {
            if (await RecordAsync(batch, state, batchWrite, cancellationToken) is not ({ } next, var progress))
            {
                return false;
            }

            (batch, state) = (next, progress);
        }

        return await FinishAsync(batch, state with { ResultsRecorded = count }, total, cancellationToken);
    }

    /// <summary>Writes a group of records, then saves the progress; a null batch when another instance changed it meanwhile.</summary>
    private async Task<(OwnedObject? Batch, BatchState State)> RecordAsync(
        OwnedObject batch, BatchState state, List<UsageRecord> records, CancellationToken cancellationToken)
    {
        await usage.WriteBatchAsync(records, cancellationToken);
        state = state with { ResultsRecorded = state.ResultsRecorded + records.Count };
        records.Clear();
        return (await objects.ReplaceAsync(batch with { State = BatchStates.Write(state) }, cancellationToken), state);
    }

    /// <summary>Settles the reservation at the total (once, whatever ran before) and marks the batch settled.</summary>
    private async Task<bool> FinishAsync(OwnedObject batch, BatchState state, long totalMicros, CancellationToken cancellationToken)
    {
        if (state.Reserved is { HasHold: true } reserved)
        {
            await ledger.SettleOnceAsync(reserved, new ActualUse(0, 0, totalMicros), cancellationToken);
        }

        var settled = state with { SettledAt = time.GetUtcNow() };
        if (await objects.ReplaceAsync(batch with { Pending = false, State = BatchStates.Write(settled) }, cancellationToken) is null)
        {
            return false;
        }

        Log.Settled(logger, batch.Id, batch.OwnerKeyId, state.ResultsRecorded, totalMicros);
        return true;
    }

    /// <summary>
    /// The upstream no longer knows the batch, so its results can never be read: it is billed at its worst case (what it
    /// reserved), in one estimated record, rather than not at all (docs/batches.md#billing).
    /// </summary>
    private async Task<bool> SettleGoneAsync(OwnedObject batch, BatchState state, CancellationToken cancellationToken)
    {
        var worst = state.Reserved?.ReservedMicros ?? 0;
        Log.BatchGone(logger, batch.Id, batch.OwnerKeyId, worst);
        await usage.WriteAsync(new UsageRecord
        {
            RequestId = batch.Id + "_gone",
            KeyId = batch.OwnerKeyId,
            Endpoint = Endpoint,
            StartedAt = batch.CreatedAt,
            BatchId = batch.Id,
            Model = state.Models.Count == 1 ? Asked(state, state.Models[0]) ?? state.Models[0] : null,
            Upstream = batch.Upstream,
            UpstreamModel = state.Models.Count == 1 ? state.Models[0] : null,
            Status = 404,
            ErrorType = Protocol.ErrorTypes.NotFound,
            State = UsageState.Failed,
            Estimated = true,
            Cost = state.Reserved is null ? null : Money.FromMicros(worst),
            Currency = state.Reserved is null ? null : prices.Currency,
            PriceVersion = prices.Version,
        }, cancellationToken);
        return await FinishAsync(batch, state, worst, cancellationToken);
    }

    /// <summary>One result's usage record, before its price: never the request's text, its answer or its <c>custom_id</c>.</summary>
    private static UsageRecord Record(OwnedObject batch, BatchState state, BatchResult result, DateTimeOffset? endedAt)
    {
        var served = Served(state.Models, result.Model);
        var (status, usageState, errorType) = result.Type switch
        {
            BatchResult.Succeeded => (200, UsageState.Complete, null),
            BatchResult.Errored => (Protocol.ApiError.StatusForType(result.ErrorType), UsageState.Failed, result.ErrorType ?? Protocol.ErrorTypes.Api),
            BatchResult.Canceled => (499, UsageState.Cancelled, BatchResult.Canceled),
            _ => (504, UsageState.Failed, result.Type),
        };
        var tokens = result.Usage;
        return new UsageRecord
        {
            RequestId = RequestId(batch.Id, result.Index),
            KeyId = batch.OwnerKeyId,
            Endpoint = Endpoint,
            StartedAt = batch.CreatedAt,
            BatchId = batch.Id,
            UpstreamRequestId = result.MessageId,
            Model = Asked(state, served) ?? result.Model ?? served,
            Upstream = batch.Upstream,
            UpstreamModel = served ?? result.Model,
            Status = status,
            ErrorType = errorType,
            State = usageState,
            InputTokens = tokens?.InputTokens ?? 0,
            OutputTokens = tokens?.OutputTokens ?? 0,
            CacheCreationInputTokens = tokens?.CacheCreationInputTokens ?? 0,
            CacheCreation5mInputTokens = tokens?.CacheCreation5mInputTokens,
            CacheCreation1hInputTokens = tokens?.CacheCreation1hInputTokens,
            CacheReadInputTokens = tokens?.CacheReadInputTokens ?? 0,
            WebSearchRequests = tokens?.WebSearchRequests,
            WebFetchRequests = tokens?.WebFetchRequests,
            ServiceTier = tokens?.ServiceTier,
            Speed = tokens?.Speed,
            InferenceGeo = tokens?.InferenceGeo,
            RawUsage = tokens?.Raw,
            DurationMs = endedAt is { } ended ? Math.Max(0, (ended - batch.CreatedAt).TotalMilliseconds) : 0,
        };
    }

    /// <summary>
    /// A result's record at batch prices. One that used tokens under a model name none of the batch's models matches (and
    /// that has no price of its own) is priced at the dearest of the batch's models, never at nothing
    /// (docs/batches.md#billing).
    /// </summary>
    private UsageRecord PriceResult(UsageRecord record, IReadOnlyList<string> models)
    {
        var priced = prices.PriceBatchResult(record);
        if (priced.Cost is not null)
        {
            return priced;
        }

        var dearest = priced;
        foreach (var model in models)
        {
            var candidate = prices.PriceBatchResult(record with { UpstreamModel = model });
            if (candidate.Cost is { } cost && (dearest.Cost is not { } best || cost > best))
            {
                dearest = candidate;
            }
        }

        return dearest;
    }

    /// <summary>
    /// The request id of a batch's result: the batch id and the result's place in the results file (fixed once the batch
    /// has ended), so every run names a result alike and its record is written once.
    /// </summary>
    public static string RequestId(string batchId, int index) => batchId + "_" + index.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The model the batch's requests named for <paramref name="served"/>; null when the batch's state keeps none.</summary>
    private static string? Asked(BatchState state, string? served) =>
        served is not null && state.AskedModels.TryGetValue(served, out var asked) ? asked : null;

    /// <summary>
    /// Which of the batch's models (as sent upstream) served a result the upstream names <paramref name="reported"/>: the
    /// same name, or a dated id of it (<c>claude-sonnet-4-5-20250929</c> for <c>claude-sonnet-4-5</c>); a batch of one
    /// model is priced at it whatever the result says.
    /// </summary>
    private static string? Served(IReadOnlyList<string> models, string? reported)
    {
        if (models.Count == 1)
        {
            return models[0];
        }

        if (reported is null)
        {
            return null;
        }

        foreach (var model in models)
        {
            if (string.Equals(model, reported, StringComparison.OrdinalIgnoreCase))
            {
                return model;
            }
        }

        foreach (var model in models)
        {
            if (reported.StartsWith(model + "-", StringComparison.OrdinalIgnoreCase))
            {
                return model;
            }
        }

        return null;
    }

    /// <summary>The batch's <c>processing_status</c> and <c>ended_at</c>, as the upstream describes it.</summary>
    private static (string? Status, DateTimeOffset? EndedAt) Describe(byte[] described)
    {
        try
        {
            using var document = JsonDocument.Parse(described);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, null);
            }

            var status = root.TryGetProperty("processing_status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            var ended = root.TryGetProperty("ended_at", out var e) && e.ValueKind == JsonValueKind.String && e.TryGetDateTimeOffset(out var at) ? at : (DateTimeOffset?)null;
            return (status, ended);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static long Add(long a, long b) => b > 0 && a > long.MaxValue - b ? long.MaxValue : a + b;

    private static partial class Log
    {
        [LoggerMessage(EventId = 6402, Level = LogLevel.Information,
            Message = "Settled message batch {BatchId} of key {KeyId}: {Results} results, {CostMicros} micro-units")]
        public static partial void Settled(ILogger logger, string batchId, string keyId, int results, long costMicros);

        [LoggerMessage(EventId = 6403, Level = LogLevel.Warning, Message = "Could not settle message batch {BatchId} of key {KeyId} in this run; it is tried again at the next")]
        public static partial void SettlementFailed(ILogger logger, string batchId, string keyId, Exception exception);

        [LoggerMessage(EventId = 6406, Level = LogLevel.Warning,
            Message = "Batch {BatchId} of key {KeyId}: the upstream does not know it; billed as gone if it still does not after {GoneAfter}")]
        public static partial void BatchNotFound(ILogger logger, string batchId, string keyId, TimeSpan goneAfter);

        [LoggerMessage(EventId = 6404, Level = LogLevel.Warning,
            Message = "The upstream no longer knows message batch {BatchId} of key {KeyId}: billed at its reservation, {CostMicros} micro-units")]
        public static partial void BatchGone(ILogger logger, string batchId, string keyId, long costMicros);
    }
}
