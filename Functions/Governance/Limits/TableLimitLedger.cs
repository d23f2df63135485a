using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// The limit ledger in Table Storage (the limits table). All rows of a key share one partition (the key id), so an admission changes
/// its minute window, its spend counter, its stream counter and adds its hold in ONE entity-group transaction, each
/// row conditional on the ETag it was read with: either every counter moves or none does, and two instances that
/// read the same counters cannot both commit (the second gets 412, reads again and decides again). That is what makes
/// limits hold across any number of instances: there is no per-instance counter anywhere.
/// </summary>
public sealed partial class TableLimitLedger(
    GatewayTables tables, IUsageStore usage, IOptions<GatewayOptions> options, ILogger<TableLimitLedger> logger) : ILimitLedger
{
    /// <summary>Holds swept in one transaction (a transaction takes at most 100 operations).</summary>
    private const int MaxSweep = 90;

    private const string TableNotFound = "TableNotFound";

    private readonly LimitsOptions _options = options.Value.Limits;

    public Task<AdmissionOutcome> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken) =>
        RunAsync(patient: false, async table =>
        {
            var (keyId, limits, estimate, now) = (request.KeyId, request.Limits, request.Estimate, request.Now);
            var windowStart = AdmissionPolicy.WindowStart(now);
            var reserved = AdmissionPolicy.Reserve(request);
            var charge = new WindowCharge(reserved.InputTokens, reserved.OutputTokens);
            var (spendPeriod, stream) = (reserved.SpendPeriod, reserved.Stream);
            var swept = false;
            for (var attempt = 1; ; attempt++)
            {
                var windowRead = limits.HasWindow ? ReadAsync<LimitWindowEntity>(table, keyId, LimitWindowEntity.Row, cancellationToken) : null;
                var spendRead = spendPeriod is null ? null : ReadAsync<SpendEntity>(table, keyId, SpendEntity.RowFor(spendPeriod), cancellationToken);
                var streamsRead = stream ? ReadAsync<StreamsEntity>(table, keyId, StreamsEntity.Row, cancellationToken) : null;
                var window = windowRead is null ? null : await windowRead;
                var spend = spendRead is null ? null : await spendRead;
                var streams = streamsRead is null ? null : await streamsRead;

                var current = window is not null && window.WindowStart == windowStart ? window : null;
                var spent = spend?.SpentMicros ?? (spendPeriod is null
                    ? 0
                    : await RecordedSpendAsync(keyId, SpendPeriods.Start(limits.SpendPeriod, now, request.KeyCreatedAt), now, cancellationToken));
                var before = new LimitUsage(current?.Requests ?? 0, current?.InputTokens ?? 0, current?.OutputTokens ?? 0,
                    spent, spend?.ReservedMicros ?? 0, streams?.Active ?? 0);

                var refused = AdmissionPolicy.Check(limits, before, estimate, charge);
                if (refused != LimitKind.None)
                {
                    // Reservations of instances that died stop counting once they expire; look for them only when
                    // they could be what refuses this call.
                    if (!swept && ((refused == LimitKind.Spend && before.ReservedMicros > 0) || (refused == LimitKind.Streams && before.ActiveStreams > 0)))
                    {
                        swept = true;
                        if (await SweepAsync(table, keyId, now, cancellationToken) > 0)
                        {
                            continue;
                        }
                    }

                    return new AdmissionOutcome(refused, before, windowStart, null);
                }

                var after = AdmissionPolicy.Add(limits, before, estimate, charge);
                var actions = new List<TableTransactionAction>(4);
                if (limits.HasWindow)
                {
                    var row = new LimitWindowEntity
                    {
                        PartitionKey = keyId,
                        WindowStart = windowStart,
                        Requests = after.Requests,
                        InputTokens = after.InputTokens,
                        OutputTokens = after.OutputTokens,
                    };
                    actions.Add(Write(row, window?.ETag));
                }

                if (spendPeriod is not null)
                {
                    var row = new SpendEntity
                    {
                        PartitionKey = keyId,
                        RowKey = SpendEntity.RowFor(spendPeriod),
                        SpentMicros = after.SpentMicros,
                        ReservedMicros = after.ReservedMicros,
                    };
                    actions.Add(Write(row, spend?.ETag));
                }

                if (stream)
                {
                    actions.Add(Write(new StreamsEntity { PartitionKey = keyId, Active = after.ActiveStreams }, streams?.ETag));
                }

                if (reserved.HasHold)
                {
                    actions.Add(new TableTransactionAction(TableTransactionActionType.Add, new HoldEntity
                    {
                        PartitionKey = keyId,
                        RowKey = HoldEntity.RowFor(request.RequestId),
                        ExpiresAt = now + request.LeaseDuration,
                        SpendPeriod = spendPeriod,
                        ReservedMicros = reserved.ReservedMicros,
                        Stream = stream,
                    }));
                }

                // A call that changes no counter (a key whose only limit is a spend cap, on a call with no cost to
                // reserve) has nothing to commit: a transaction must hold at least one operation.
                if (actions.Count == 0 || await TrySubmitAsync(table, actions, cancellationToken))
                {
                    return new AdmissionOutcome(LimitKind.None, after, windowStart, reserved);
                }

                await BackoffAsync(keyId, attempt, cancellationToken);
            }
        }, cancellationToken);

    public Task SettleAsync(Reserved reserved, ActualUse actual, CancellationToken cancellationToken) =>
        RunAsync(patient: true, async table =>
        {
            var keyId = reserved.KeyId;
            for (var attempt = 1; ; attempt++)
            {
                var windowRead = reserved.WindowStart is null ? null : ReadAsync<LimitWindowEntity>(table, keyId, LimitWindowEntity.Row, cancellationToken);
                var holdRead = reserved.HasHold ? ReadAsync<HoldEntity>(table, keyId, HoldEntity.RowFor(reserved.RequestId), cancellationToken) : null;
                var spendRead = reserved.SpendPeriod is null ? null : ReadAsync<SpendEntity>(table, keyId, SpendEntity.RowFor(reserved.SpendPeriod), cancellationToken);
                var streamsRead = reserved.Stream ? ReadAsync<StreamsEntity>(table, keyId, StreamsEntity.Row, cancellationToken) : null;
                var window = windowRead is null ? null : await windowRead;
                var hold = holdRead is null ? null : await holdRead;
                var spend = spendRead is null ? null : await spendRead;
                var streams = streamsRead is null ? null : await streamsRead;

                var actions = new List<TableTransactionAction>(4);

                // Tokens: the estimate becomes the real count, in the window it was charged to (a window that has
                // passed no longer limits anything, so it is left alone).
                if (window is not null && window.WindowStart == reserved.WindowStart)
                {
                    window.InputTokens = Math.Max(0, window.InputTokens + actual.InputTokens - reserved.InputTokens);
                    window.OutputTokens = Math.Max(0, window.OutputTokens + actual.OutputTokens - reserved.OutputTokens);
                    actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateReplace, window, window.ETag));
                }

                // Spend: the worst case gives way to the cost. A hold that is gone was swept (its instance looked
                // dead), which already gave its reservation back: then only the cost is added.
                if (reserved.SpendPeriod is not null && (actual.CostMicros > 0 || hold is not null))
                {
                    spend ??= new SpendEntity { PartitionKey = keyId, RowKey = SpendEntity.RowFor(reserved.SpendPeriod) };
                    if (hold is not null)
                    {
                        spend.ReservedMicros = Math.Max(0, spend.ReservedMicros - hold.ReservedMicros);
                    }

                    spend.SpentMicros += actual.CostMicros;
                    actions.Add(Write(spend, spend.ETag == default ? null : spend.ETag));
                }

                if (hold is not null)
                {
                    if (hold.Stream && streams is not null)
                    {
                        streams.Active = Math.Max(0, streams.Active - 1);
                        actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateReplace, streams, streams.ETag));
                    }

                    actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, hold, hold.ETag));
                }

                if (actions.Count == 0 || await TrySubmitAsync(table, actions, cancellationToken))
                {
                    return true;
                }

                await BackoffAsync(keyId, attempt, cancellationToken);
            }
        }, cancellationToken);

    public Task<bool> SettleOnceAsync(Reserved reserved, ActualUse actual, CancellationToken cancellationToken) =>
        RunAsync(patient: true, async table =>
        {
            var keyId = reserved.KeyId;
            for (var attempt = 1; ; attempt++)
            {
                var markRead = ReadAsync<SettledEntity>(table, keyId, SettledEntity.RowFor(reserved.RequestId), cancellationToken);
                var holdRead = ReadAsync<HoldEntity>(table, keyId, HoldEntity.RowFor(reserved.RequestId), cancellationToken);
                var spendRead = reserved.SpendPeriod is null ? null : ReadAsync<SpendEntity>(table, keyId, SpendEntity.RowFor(reserved.SpendPeriod), cancellationToken);
                var (mark, hold) = (await markRead, await holdRead);
                var spend = spendRead is null ? null : await spendRead;
                if (mark is not null)
                {
                    return false;
                }

                // The mark is added (409 if another settlement added it first) with the spend and the hold's removal:
                // all three happen, or none.
                var actions = new List<TableTransactionAction>(3)
                {
                    new(TableTransactionActionType.Add, new SettledEntity
                    {
                        PartitionKey = keyId, RowKey = SettledEntity.RowFor(reserved.RequestId), CostMicros = actual.CostMicros,
                    }),
                };
                if (reserved.SpendPeriod is not null)
                {
                    spend ??= new SpendEntity { PartitionKey = keyId, RowKey = SpendEntity.RowFor(reserved.SpendPeriod) };
                    spend.ReservedMicros = Math.Max(0, spend.ReservedMicros - (hold?.ReservedMicros ?? 0));
                    spend.SpentMicros += actual.CostMicros;
                    actions.Add(Write(spend, spend.ETag == default ? null : spend.ETag));
                }

                if (hold is not null)
                {
                    actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, hold, hold.ETag));
                }

                if (await TrySubmitAsync(table, actions, cancellationToken))
                {
                    return true;
                }

                await BackoffAsync(keyId, attempt, cancellationToken);
            }
        }, cancellationToken);

    public Task<bool> RenewAsync(Reserved reserved, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        RunAsync(patient: true, async table =>
        {
            try
            {
                // A merge with If-Match: * never creates a row, so a hold that was settled or swept stays gone.
                var update = new TableEntity(reserved.KeyId, HoldEntity.RowFor(reserved.RequestId)) { [nameof(HoldEntity.ExpiresAt)] = expiresAt };
                await table.UpdateEntityAsync(update, ETag.All, TableUpdateMode.Merge, cancellationToken);
                return true;
            }
            catch (RequestFailedException exception) when (exception.Status == 404 && exception.ErrorCode != TableNotFound)
            {
                return false;
            }
        }, cancellationToken);

    public Task ResetSpendAsync(string keyId, KeyLimits limits, DateTimeOffset now, DateTimeOffset keyCreatedAt, CancellationToken cancellationToken) =>
        RunAsync(patient: true, async table =>
        {
            var row = SpendEntity.RowFor(SpendPeriods.Key(limits.SpendPeriod, now));
            for (var attempt = 1; ; attempt++)
            {
                var spend = await ReadAsync<SpendEntity>(table, keyId, row, cancellationToken);
                var recorded = await RecordedSpendAsync(keyId, SpendPeriods.Start(limits.SpendPeriod, now, keyCreatedAt), now, cancellationToken);
                var reset = new SpendEntity { PartitionKey = keyId, RowKey = row, SpentMicros = recorded, ReservedMicros = spend?.ReservedMicros ?? 0 };
                if (await TrySubmitAsync(table, [Write(reset, spend?.ETag)], cancellationToken))
                {
                    return true;
                }

                await BackoffAsync(keyId, attempt, cancellationToken);
            }
        }, cancellationToken);

    public Task<WindowCount> CountAsync(string keyId, string counter, long limit, DateTimeOffset now, CancellationToken cancellationToken) =>
        RunAsync(patient: false, async table =>
        {
            var windowStart = AdmissionPolicy.WindowStart(now);
            for (var attempt = 1; ; attempt++)
            {
                var window = await ReadAsync<LimitWindowEntity>(table, keyId, counter, cancellationToken);
                var current = window is not null && window.WindowStart == windowStart ? window : null;
                var calls = current?.Requests ?? 0;
                if (calls + 1 > limit)
                {
                    return new WindowCount(false, calls, windowStart);
                }

                // The tokens the window holds stay as they are: only admissions and settlements move them.
                var row = new LimitWindowEntity
                {
                    PartitionKey = keyId,
                    RowKey = counter,
                    WindowStart = windowStart,
                    Requests = calls + 1,
                    InputTokens = current?.InputTokens ?? 0,
                    OutputTokens = current?.OutputTokens ?? 0,
                };
                if (await TrySubmitAsync(table, [Write(row, window?.ETag)], cancellationToken))
                {
                    return new WindowCount(true, calls + 1, windowStart);
                }

                await BackoffAsync(keyId, attempt, cancellationToken);
            }
        }, cancellationToken);

    public Task<LimitUsage> ReadAsync(string keyId, KeyLimits limits, DateTimeOffset now, CancellationToken cancellationToken) =>
        RunAsync(patient: true, async table =>
        {
            var window = await ReadAsync<LimitWindowEntity>(table, keyId, LimitWindowEntity.Row, cancellationToken);
            var spend = await ReadAsync<SpendEntity>(table, keyId, SpendEntity.RowFor(SpendPeriods.Key(limits.SpendPeriod, now)), cancellationToken);
            var streams = await ReadAsync<StreamsEntity>(table, keyId, StreamsEntity.Row, cancellationToken);
            var current = window is not null && window.WindowStart == AdmissionPolicy.WindowStart(now) ? window : null;
            return new LimitUsage(current?.Requests ?? 0, current?.InputTokens ?? 0, current?.OutputTokens ?? 0,
                spend?.SpentMicros ?? 0, spend?.ReservedMicros ?? 0, streams?.Active ?? 0);
        }, cancellationToken);

    /// <summary>
    /// Removes holds that expired (their instance stopped renewing them) and gives back what they reserved, in one
    /// transaction conditional on every row it read. Returns how many were swept (0 when another instance won).
    /// </summary>
    private async Task<int> SweepAsync(TableClient table, string keyId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {keyId} and RowKey ge {HoldEntity.RowPrefix} and RowKey lt {HoldEntity.RowEnd} and ExpiresAt lt {now}");
        var expired = new List<HoldEntity>();
        await foreach (var hold in table.QueryAsync<HoldEntity>(filter, maxPerPage: MaxSweep, cancellationToken: cancellationToken))
        {
            expired.Add(hold);
            if (expired.Count == MaxSweep)
            {
                break;
            }
        }

        if (expired.Count == 0)
        {
            return 0;
        }

        var actions = new List<TableTransactionAction>(expired.Count + 4);
        foreach (var group in expired.Where(static h => h.SpendPeriod is not null).GroupBy(static h => h.SpendPeriod!, StringComparer.Ordinal))
        {
            if (await ReadAsync<SpendEntity>(table, keyId, SpendEntity.RowFor(group.Key), cancellationToken) is { } spend)
            {
                spend.ReservedMicros = Math.Max(0, spend.ReservedMicros - group.Sum(static h => h.ReservedMicros));
                actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateReplace, spend, spend.ETag));
            }
        }

        var streamCount = expired.Count(static h => h.Stream);
        if (streamCount > 0 && await ReadAsync<StreamsEntity>(table, keyId, StreamsEntity.Row, cancellationToken) is { } streams)
        {
            streams.Active = Math.Max(0, streams.Active - streamCount);
            actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateReplace, streams, streams.ETag));
        }

        actions.AddRange(expired.Select(static h => new TableTransactionAction(TableTransactionActionType.Delete, h, h.ETag)));
        if (!await TrySubmitAsync(table, actions, cancellationToken))
        {
            return 0;
        }

        Log.Swept(logger, expired.Count, keyId);
        return expired.Count;
    }

    /// <summary>The spend already in the usage table for a period: where a counter starts when a cap is first enforced in it.</summary>
    private async Task<long> RecordedSpendAsync(string keyId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        long total = 0;
        await foreach (var record in usage.QueryAsync(keyId, from, to, cancellationToken))
        {
            total += record.Cost is { } cost ? Money.ToMicros(cost) : 0;
        }

        return total;
    }

    private static async Task<T?> ReadAsync<T>(TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken)
        where T : class, ITableEntity, new()
    {
        var response = await table.GetEntityIfExistsAsync<T>(partitionKey, rowKey, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>Adds a row that was not there, or replaces the one that was read, on condition that nobody changed it since.</summary>
    private static TableTransactionAction Write(ITableEntity entity, ETag? readWith) => readWith is { } etag
        ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, etag)
        : new TableTransactionAction(TableTransactionActionType.Add, entity);

    /// <summary>Commits a transaction; false when another instance changed (or added, or removed) a row first.</summary>
    private static async Task<bool> TrySubmitAsync(TableClient table, List<TableTransactionAction> actions, CancellationToken cancellationToken)
    {
        try
        {
            await table.SubmitTransactionAsync(actions, cancellationToken);
            return true;
        }
        catch (RequestFailedException exception) when (exception.Status is 409 or 412 || (exception.Status == 404 && exception.ErrorCode != TableNotFound))
        {
            return false;
        }
    }

    /// <summary>Waits a random, growing while before the next optimistic attempt, so contenders spread out.</summary>
    private Task BackoffAsync(string keyId, int attempt, CancellationToken cancellationToken)
    {
        if (attempt >= _options.MaxConflictRetries)
        {
            Log.Contention(logger, keyId, attempt);
            throw new LimitContentionException($"The limits of key {keyId} kept changing during {attempt} attempts.");
        }

        var ceiling = 5 << Math.Min(attempt, 5);
        return Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, ceiling)), cancellationToken);
    }

    private async Task<T> RunAsync<T>(bool patient, Func<TableClient, Task<T>> operation, CancellationToken cancellationToken)
    {
        try
        {
            var table = patient ? await tables.LimitsForSettlementAsync(cancellationToken) : await tables.LimitsAsync(cancellationToken);
            return await operation(table);
        }
        catch (RequestFailedException exception) when (exception.Status == 404 && exception.ErrorCode == TableNotFound)
        {
            tables.LimitsTableMissing();
            throw new StorageUnavailableException("The limits table does not exist.", exception);
        }
        catch (Exception exception) when (exception is not (StorageUnavailableException or LimitContentionException) &&
                                          StorageErrors.IsUnavailable(exception, cancellationToken))
        {
            throw new StorageUnavailableException("The limits table could not be reached.", exception);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Swept {Count} expired reservations of key {KeyId}")]
        public static partial void Swept(ILogger logger, int count, string keyId);

        [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Limits of key {KeyId} still contended after {Attempts} attempts")]
        public static partial void Contention(ILogger logger, string keyId, int attempts);
    }
}
