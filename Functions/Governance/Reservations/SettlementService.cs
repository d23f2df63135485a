using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Telemetry;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// Settles what admitted calls reserved, off the request path: a call's priced usage record replaces its reservation
/// with what it really used; a call that ended without a record gives its reservation back, charging nothing. Each
/// settlement runs in the background, with retries, against the limit ledger (docs/limits-and-prices.md).
/// </summary>
public sealed partial class SettlementService(
    ILimitLedger ledger, ReservationRegistry reservations, TimeProvider time, IOptions<GatewayOptions> options, ILogger<SettlementService> logger)
    : IDisposable
{
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(30);

    private readonly LimitsOptions _options = options.Value.Limits;
    private readonly CancellationTokenSource _stopping = new();
    private long _pending;

    /// <summary>Settlements started and not finished (written or given up on).</summary>
    public long Pending => Interlocked.Read(ref _pending);

    /// <summary>Keeps an admitted call's reservation until its usage record (or the end of its response) settles it.</summary>
    public Reservation Track(Reserved reserved, DateTimeOffset now)
    {
        var reservation = new Reservation(this, reserved, now);
        reservations.Add(reservation);
        return reservation;
    }

    /// <summary>Settles the reservation of the call a priced record ends, if this instance holds one.</summary>
    public void Settle(UsageRecord record)
    {
        if (!reservations.TryRemove(record.RequestId, out var reservation))
        {
            return;
        }

        var tokens = BillableTokens.From(record);
        Start(reservation.Reserved, new ActualUse(tokens.RateLimitedInput, tokens.Output, record.Cost is { } cost ? Money.ToMicros(cost) : 0));
    }

    /// <summary>The response is gone and no record settled the call: give its reservation back, charging nothing (no record, no cost).</summary>
    internal void Abandon(Reservation reservation)
    {
        if (reservations.TryRemove(reservation))
        {
            Log.Abandoned(logger, reservation.Reserved.RequestId, reservation.Reserved.KeyId);
            Start(reservation.Reserved, default);
        }
    }

    /// <summary>Waits until every settlement started so far is done (tests, shutdown).</summary>
    public async Task WaitForIdleAsync(CancellationToken cancellationToken)
    {
        while (Pending > 0)
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>
    /// At shutdown, after the web server has drained: the last settlements get their chance to finish, then those
    /// still retrying make one last attempt.
    /// </summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        try
        {
            await WaitForIdleAsync(cancellationToken).WaitAsync(ShutdownGrace, cancellationToken);
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            Log.SettlementsLeftAtShutdown(logger, Pending);
        }

        await _stopping.CancelAsync();
    }

    public void Dispose() => _stopping.Dispose();

    private void Start(Reserved reserved, ActualUse actual)
    {
        Interlocked.Increment(ref _pending);
        _ = Task.Run(async () =>
        {
            try
            {
                await SettleWithRetriesAsync(reserved, actual);
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        });
    }

    private async Task SettleWithRetriesAsync(Reserved reserved, ActualUse actual)
    {
        var delay = TimeSpan.FromMilliseconds(500);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await ledger.SettleAsync(reserved, actual, _stopping.Token);
                return;
            }
            catch (Exception exception) when (exception is StorageUnavailableException or LimitContentionException or OperationCanceledException)
            {
                if (attempt >= _options.SettleAttempts || _stopping.IsCancellationRequested)
                {
                    // The hold (if any) lapses after LeaseDuration and is swept, so slots and reservations come back;
                    // the cost is in the usage record, but not in the spend counter.
                    Log.SettlementLost(logger, reserved.RequestId, reserved.KeyId, reserved.ReservedMicros, actual.CostMicros, exception);
                    GatewayTelemetry.SettlementLost();
                    return;
                }

                Log.SettlementRetry(logger, reserved.RequestId, attempt, exception);
                try
                {
                    await Task.Delay(delay, time, _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    // Shutting down: one last attempt.
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6103, Level = LogLevel.Warning, Message = "Settling call {RequestId} failed (attempt {Attempt}); retrying")]
        public static partial void SettlementRetry(ILogger logger, string requestId, int attempt, Exception exception);

        [LoggerMessage(EventId = 6104, EventName = "SettlementLost", Level = LogLevel.Critical,
            Message = "Call {RequestId} of key {KeyId} could not be settled: {ReservedMicros} micro-units stay reserved until the hold expires; its cost of {CostMicros} micro-units is not in the spend counter")]
        public static partial void SettlementLost(ILogger logger, string requestId, string keyId, long reservedMicros, long costMicros, Exception exception);

        [LoggerMessage(EventId = 6105, Level = LogLevel.Warning, Message = "Call {RequestId} of key {KeyId} ended without a usage record; its reservation is released")]
        public static partial void Abandoned(ILogger logger, string requestId, string keyId);

        [LoggerMessage(EventId = 6107, Level = LogLevel.Warning, Message = "{Count} settlements still pending at shutdown")]
        public static partial void SettlementsLeftAtShutdown(ILogger logger, long count);
    }
}
