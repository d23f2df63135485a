using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>
/// The limit ledger in memory, for tests that need no Azurite. It keeps the same rows as
/// <see cref="TableLimitLedger"/> (per key: the minute window, a spend counter per period, the stream counter, one hold
/// per running call) and applies the same rules to them, one operation at a time; LimitLedgerContract runs the same
/// scenarios against both. A spend counter that does not exist yet starts from the costs in the usage table, when one
/// is given.
/// </summary>
public sealed class InMemoryLimitLedger(IUsageStore? usage = null) : ILimitLedger, IDisposable
{
    /// <summary>Holds swept at once, as in one table transaction.</summary>
    private const int MaxSweep = 90;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, KeyRows> _keys = new(StringComparer.Ordinal);

    /// <summary>Operations called so far, for tests that check the ledger was never asked.</summary>
    public int Operations { get; private set; }

    public Task<AdmissionOutcome> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken) =>
        RunAsync(request.KeyId, async rows =>
        {
            var (limits, estimate, now) = (request.Limits, request.Estimate, request.Now);
            var windowStart = AdmissionPolicy.WindowStart(now);
            var reserved = AdmissionPolicy.Reserve(request);
            var charge = new WindowCharge(reserved.InputTokens, reserved.OutputTokens);
            var (spendPeriod, stream) = (reserved.SpendPeriod, reserved.Stream);
            var swept = false;
            while (true)
            {
                var current = limits.HasWindow && rows.Window?.Start == windowStart ? rows.Window : null;
                var spend = spendPeriod is null ? null : rows.Spend.GetValueOrDefault(spendPeriod);
                var spent = spend?.SpentMicros ?? (spendPeriod is null
                    ? 0
                    : await RecordedSpendAsync(request.KeyId, SpendPeriods.Start(limits.SpendPeriod, now, request.KeyCreatedAt), now, cancellationToken));
                var before = new LimitUsage(current?.Requests ?? 0, current?.InputTokens ?? 0, current?.OutputTokens ?? 0,
                    spent, spend?.ReservedMicros ?? 0, stream ? rows.Streams ?? 0 : 0);

                var refused = AdmissionPolicy.Check(limits, before, estimate, charge);
                if (refused != LimitKind.None)
                {
                    if (!swept && ((refused == LimitKind.Spend && before.ReservedMicros > 0) || (refused == LimitKind.Streams && before.ActiveStreams > 0)))
                    {
                        swept = true;
                        if (Sweep(rows, now) > 0)
                        {
                            continue;
                        }
                    }

                    return new AdmissionOutcome(refused, before, windowStart, null);
                }

                if (reserved.HasHold && rows.Holds.ContainsKey(request.RequestId))
                {
                    // The table refuses a second hold row for the same call (409) until the optimistic retries run out.
                    throw new LimitContentionException($"The limits of key {request.KeyId} kept changing.");
                }

                var after = AdmissionPolicy.Add(limits, before, estimate, charge);
                if (limits.HasWindow)
                {
                    rows.Window = new WindowRow { Start = windowStart, Requests = after.Requests, InputTokens = after.InputTokens, OutputTokens = after.OutputTokens };
                }

                if (spendPeriod is not null)
                {
                    rows.Spend[spendPeriod] = new SpendRow { SpentMicros = after.SpentMicros, ReservedMicros = after.ReservedMicros };
                }

                if (stream)
                {
                    rows.Streams = after.ActiveStreams;
                }

                if (reserved.HasHold)
                {
                    rows.Holds[request.RequestId] = new HoldRow
                    {
                        ExpiresAt = now + request.LeaseDuration,
                        SpendPeriod = spendPeriod,
                        ReservedMicros = reserved.ReservedMicros,
                        Stream = stream,
                    };
                }

                return new AdmissionOutcome(LimitKind.None, after, windowStart, reserved);
            }
        }, cancellationToken);

    public Task SettleAsync(Reserved reserved, ActualUse actual, CancellationToken cancellationToken) =>
        RunAsync(reserved.KeyId, rows => Task.FromResult(Settle(rows, reserved, actual)), cancellationToken);

    public Task<bool> SettleOnceAsync(Reserved reserved, ActualUse actual, CancellationToken cancellationToken) =>
        RunAsync(reserved.KeyId, rows => Task.FromResult(rows.Settled.Add(reserved.RequestId) && Settle(rows, reserved, actual)), cancellationToken);

    private static bool Settle(KeyRows rows, Reserved reserved, ActualUse actual)
    {
        if (reserved.WindowStart is not null && rows.Window is { } window && window.Start == reserved.WindowStart)
        {
            window.InputTokens = Math.Max(0, window.InputTokens + actual.InputTokens - reserved.InputTokens);
            window.OutputTokens = Math.Max(0, window.OutputTokens + actual.OutputTokens - reserved.OutputTokens);
        }

        var hold = reserved.HasHold ? rows.Holds.GetValueOrDefault(reserved.RequestId) : null;
        if (reserved.SpendPeriod is not null && (actual.CostMicros > 0 || hold is not null))
        {
            var spend = rows.Spend.GetValueOrDefault(reserved.SpendPeriod) ?? new SpendRow();
            if (hold is not null)
            {
                spend.ReservedMicros = Math.Max(0, spend.ReservedMicros - hold.ReservedMicros);
            }

            spend.SpentMicros += actual.CostMicros;
            rows.Spend[reserved.SpendPeriod] = spend;
        }

        if (hold is not null)
        {
            if (hold.Stream && reserved.Stream && rows.Streams is { } active)
            {
                rows.Streams = Math.Max(0, active - 1);
            }

            rows.Holds.Remove(reserved.RequestId);
        }

        return true;
    }

    public Task<bool> RenewAsync(Reserved reserved, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        RunAsync(reserved.KeyId, rows =>
        {
            if (!rows.Holds.TryGetValue(reserved.RequestId, out var hold))
            {
                return Task.FromResult(false);
            }

            hold.ExpiresAt = expiresAt;
            return Task.FromResult(true);
        }, cancellationToken);

    public Task ResetSpendAsync(string keyId, KeyLimits limits, DateTimeOffset now, DateTimeOffset keyCreatedAt, CancellationToken cancellationToken) =>
        RunAsync(keyId, async rows =>
        {
            var period = SpendPeriods.Key(limits.SpendPeriod, now);
            var recorded = await RecordedSpendAsync(keyId, SpendPeriods.Start(limits.SpendPeriod, now, keyCreatedAt), now, cancellationToken);
            rows.Spend[period] = new SpendRow { SpentMicros = recorded, ReservedMicros = rows.Spend.GetValueOrDefault(period)?.ReservedMicros ?? 0 };
            return true;
        }, cancellationToken);

    public Task<WindowCount> CountAsync(string keyId, string counter, long limit, DateTimeOffset now, CancellationToken cancellationToken) =>
        RunAsync(keyId, rows =>
        {
            var windowStart = AdmissionPolicy.WindowStart(now);
            var window = counter == LimitWindowEntity.Row ? rows.Window : rows.Counters.GetValueOrDefault(counter);
            var current = window?.Start == windowStart ? window : null;
            var calls = current?.Requests ?? 0;
            if (calls + 1 > limit)
            {
                return Task.FromResult(new WindowCount(false, calls, windowStart));
            }

            var row = new WindowRow { Start = windowStart, Requests = calls + 1, InputTokens = current?.InputTokens ?? 0, OutputTokens = current?.OutputTokens ?? 0 };
            if (counter == LimitWindowEntity.Row)
            {
                rows.Window = row;
            }
            else
            {
                rows.Counters[counter] = row;
            }

            return Task.FromResult(new WindowCount(true, calls + 1, windowStart));
        }, cancellationToken);

    public Task<LimitUsage> ReadAsync(string keyId, KeyLimits limits, DateTimeOffset now, CancellationToken cancellationToken) =>
        RunAsync(keyId, rows =>
        {
            var current = rows.Window?.Start == AdmissionPolicy.WindowStart(now) ? rows.Window : null;
            var spend = rows.Spend.GetValueOrDefault(SpendPeriods.Key(limits.SpendPeriod, now));
            return Task.FromResult(new LimitUsage(current?.Requests ?? 0, current?.InputTokens ?? 0, current?.OutputTokens ?? 0,
                spend?.SpentMicros ?? 0, spend?.ReservedMicros ?? 0, rows.Streams ?? 0));
        }, cancellationToken);

    public void Dispose() => _gate.Dispose();

    /// <summary>Removes the holds that expired and gives back what they reserved, as the table ledger's sweep does.</summary>
    private static int Sweep(KeyRows rows, DateTimeOffset now)
    {
        var expired = rows.Holds
            .Where(h => h.Value.ExpiresAt < now)
            .OrderBy(static h => h.Key, StringComparer.Ordinal)
            .Take(MaxSweep)
            .ToList();
        foreach (var group in expired.Where(static h => h.Value.SpendPeriod is not null).GroupBy(static h => h.Value.SpendPeriod!, StringComparer.Ordinal))
        {
            if (rows.Spend.GetValueOrDefault(group.Key) is { } spend)
            {
                spend.ReservedMicros = Math.Max(0, spend.ReservedMicros - group.Sum(static h => h.Value.ReservedMicros));
            }
        }

        var streams = expired.Count(static h => h.Value.Stream);
        if (streams > 0 && rows.Streams is { } active)
        {
            rows.Streams = Math.Max(0, active - streams);
        }

        foreach (var hold in expired)
        {
            rows.Holds.Remove(hold.Key);
        }

        return expired.Count;
    }

    private async Task<long> RecordedSpendAsync(string keyId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        long total = 0;
        if (usage is not null)
        {
            await foreach (var record in usage.QueryAsync(keyId, from, to, cancellationToken))
            {
                total += record.Cost is { } cost ? Money.ToMicros(cost) : 0;
            }
        }

        return total;
    }

    private async Task<T> RunAsync<T>(string keyId, Func<KeyRows, Task<T>> operation, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            Operations++;
            if (!_keys.TryGetValue(keyId, out var rows))
            {
                rows = new KeyRows();
                _keys[keyId] = rows;
            }

            return await operation(rows);
        }
        finally
        {
            _gate.Release();
        }
    }

    private sealed class KeyRows
    {
        public WindowRow? Window { get; set; }

        /// <summary>Per-minute counters other than the admission window (<see cref="ILimitLedger.CountAsync"/>).</summary>
        public Dictionary<string, WindowRow> Counters { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, SpendRow> Spend { get; } = new(StringComparer.Ordinal);

        public long? Streams { get; set; }

        public Dictionary<string, HoldRow> Holds { get; } = new(StringComparer.Ordinal);

        /// <summary>Reservations settled once and for all (<see cref="ILimitLedger.SettleOnceAsync"/>), by request id.</summary>
        public HashSet<string> Settled { get; } = new(StringComparer.Ordinal);
    }

    private sealed class WindowRow
    {
        public DateTimeOffset Start { get; init; }

        public long Requests { get; init; }

        public long InputTokens { get; set; }

        public long OutputTokens { get; set; }
    }

    private sealed class SpendRow
    {
        public long SpentMicros { get; set; }

        public long ReservedMicros { get; set; }
    }

    private sealed class HoldRow
    {
        public DateTimeOffset ExpiresAt { get; set; }

        public string? SpendPeriod { get; init; }

        public long ReservedMicros { get; init; }

        public bool Stream { get; init; }
    }
}
