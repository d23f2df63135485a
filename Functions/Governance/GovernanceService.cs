using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// Key governance on the request path (the "authorize" step, after model permission and routing, before the upstream
/// call): prices, limits, spend caps. One call either refuses with a Claude error (429 <c>rate_limit_error</c> or
/// 402 <c>billing_error</c>) or admits the call with a reservation that is settled when its usage record is written.
/// A key with no limits costs nothing here: no table access, only the price lookup.
/// </summary>
public sealed partial class GovernanceService : IHostedLifecycleService, IDisposable
{
    private static readonly byte[] CacheControl = "\"cache_control\""u8.ToArray();

    private readonly ILimitLedger _ledger;
    private readonly PriceTable _prices;
    private readonly TimeProvider _time;
    private readonly LimitsOptions _options;
    private readonly ILogger<GovernanceService> _logger;
    private readonly ConditionalWeakTable<ApiKey, ParsedLimits> _limits = [];
    private readonly ConcurrentDictionary<string, Reservation> _active = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private ITimer? _renewals;
    private int _renewing;
    private long _pendingSettlements;

    public GovernanceService(
        ILimitLedger ledger, PriceTable prices, TimeProvider time, IOptions<GatewayOptions> options, ILogger<GovernanceService> logger)
    {
        _ledger = ledger;
        _prices = prices;
        _time = time;
        _options = options.Value.Limits;
        _logger = logger;
    }

    public PriceTable Prices => _prices;

    /// <summary>Calls admitted on this instance whose reservation is not settled yet.</summary>
    public int ActiveReservations => _active.Count;

    /// <summary>Settlements started and not finished (written or given up on).</summary>
    public long PendingSettlements => Interlocked.Read(ref _pendingSettlements);

    /// <summary>
    /// The authorize step. Returns null when the call may go on (rate-limit headers are on the response already), or
    /// the error to answer with.
    /// </summary>
    public async ValueTask<ApiError?> AdmitAsync(
        HttpContext context, ApiKey key, string requestId, MessagesRequest messages, RateLimitHeaderFormat format)
    {
        var price = _prices.Find(messages.Model);
        if (price is null && _prices.RefusesUnpriced)
        {
            return ApiError.From(ApiErrorKind.Permission,
                $"The model '{Clip(messages.Model)}' has no price on this gateway, and unpriced models are refused.");
        }

        var limits = LimitsOf(key);
        if (limits is null)
        {
            return ApiError.From(ApiErrorKind.Permission, "This API key's limits cannot be read; ask the gateway operator to correct them.");
        }

        if (limits.IsEmpty)
        {
            return null;
        }

        var now = _time.GetUtcNow();
        var estimate = Estimate(limits, price, messages);
        AdmissionOutcome outcome;
        try
        {
            // Not cancelled with the request: an admission is short (the fast-failing storage client bounds it) and
            // must not be left half-known. A call whose client left is then settled as cancelled, like any other.
            outcome = await _ledger.AdmitAsync(new AdmissionRequest
            {
                KeyId = key.Id,
                RequestId = requestId,
                Limits = limits,
                Estimate = estimate,
                Now = now,
                KeyCreatedAt = key.CreatedAt,
                LeaseDuration = _options.LeaseDuration,
            }, CancellationToken.None);
        }
        catch (StorageUnavailableException exception)
        {
            // Limits fail closed: a key with a cap is never served unmetered.
            Log.LedgerUnavailable(_logger, key.Id, exception);
            return ApiError.From(ApiErrorKind.StorageUnavailable, "The limits store is temporarily unavailable; please retry.");
        }
        catch (LimitContentionException)
        {
            return ApiError.From(ApiErrorKind.RateLimited, "Too many simultaneous requests for this API key; please retry.") with
            {
                RetryAfterSeconds = 1,
            };
        }

        RateLimitHeaders.Write(context.Response.Headers, format, limits, outcome.Usage, outcome.WindowStart, now, estimate.Stream);
        if (!outcome.Admitted)
        {
            return Refusal(outcome, limits, estimate, now);
        }

        if (outcome.Reserved is { IsEmpty: false } reserved)
        {
            var reservation = new Reservation(this, reserved, now);
            _active[requestId] = reservation;
            context.Response.RegisterForDisposeAsync(reservation);
        }

        return null;
    }

    /// <summary>The record with its cost (null when its model has no price), the currency and the price table's version.</summary>
    public UsageRecord Price(UsageRecord record)
    {
        var price = _prices.Find(record.Model);
        return price is null
            ? record with { Cost = null, Currency = null, PriceVersion = _prices.Version }
            : record with
            {
                Cost = Money.FromMicros(price.CostMicros(BillableTokens.From(record))),
                Currency = _prices.Currency,
                PriceVersion = _prices.Version,
            };
    }

    /// <summary>Settles the reservation of the call a (priced) record ends, off the request path.</summary>
    public void Settle(UsageRecord record)
    {
        if (_active.IsEmpty || !_active.TryRemove(record.RequestId, out var reservation))
        {
            return;
        }

        var tokens = BillableTokens.From(record);
        StartSettlement(reservation.Reserved, new ActualUse(tokens.RateLimitedInput, tokens.Output, record.Cost is { } cost ? Money.ToMicros(cost) : 0));
    }

    /// <summary>The response is gone and no record settled the call: give its reservation back, charging nothing (no record, no cost).</summary>
    internal void Abandon(Reservation reservation)
    {
        if (_active.TryRemove(new KeyValuePair<string, Reservation>(reservation.Reserved.RequestId, reservation)))
        {
            Log.Abandoned(_logger, reservation.Reserved.RequestId, reservation.Reserved.KeyId);
            StartSettlement(reservation.Reserved, default);
        }
    }

    /// <summary>A key's parsed limits (cached per key object, so a cached key is parsed once); null when they cannot be read.</summary>
    public KeyLimits? LimitsOf(ApiKey key)
    {
        var parsed = _limits.GetValue(key, static k => new ParsedLimits(KeyLimits.Parse(k.LimitsJson, out var error), error));
        if (parsed.Limits is null && parsed.Logged is false)
        {
            parsed.Logged = true;
            Log.InvalidLimits(_logger, key.Id, parsed.Error ?? "");
        }

        return parsed.Limits;
    }

    /// <summary>Waits until every settlement started so far is done (tests, shutdown).</summary>
    public async Task WaitForIdleAsync(CancellationToken cancellationToken)
    {
        while (PendingSettlements > 0)
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var period = _options.LeaseDuration / 3;
        _renewals = _time.CreateTimer(static state => ((GovernanceService)state!).RenewAll(), this, period, period);
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>After the web server has drained: the last settlements get their chance to finish.</summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (_renewals is not null)
        {
            await _renewals.DisposeAsync();
        }

        try
        {
            await WaitForIdleAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            Log.SettlementsLeftAtShutdown(_logger, PendingSettlements);
        }

        await _stopping.CancelAsync();
    }

    public void Dispose()
    {
        _renewals?.Dispose();
        _stopping.Dispose();
    }

    private CallEstimate Estimate(KeyLimits limits, ModelPrice? price, MessagesRequest messages)
    {
        var costed = limits.SpendCapMicros is not null && price is not null;
        long input = 0;
        if (limits.HasTokenLimit || costed)
        {
            input = (long)Math.Ceiling(TokenEstimator.Shared.EstimateRequest(messages.Root) * Math.Max(1, _options.InputEstimateMargin));
        }

        long? worst = costed ? price!.WorstCaseMicros(input, messages.MaxTokens, messages.Body.AsSpan().IndexOf(CacheControl) >= 0) : null;
        return new CallEstimate(input, messages.MaxTokens, worst, messages.Stream);
    }

    private ApiError Refusal(AdmissionOutcome outcome, KeyLimits limits, CallEstimate estimate, DateTimeOffset now)
    {
        var usage = outcome.Usage;
        var untilReset = outcome.WindowStart + AdmissionPolicy.Window - now;
        var retryAfter = Math.Clamp(untilReset.TotalSeconds, 1, 60);
        var currency = _prices.Currency;
        return outcome.Refused switch
        {
            LimitKind.Spend => ApiError.From(ApiErrorKind.Billing,
                $"This API key's spend cap is reached: {RateLimitHeaders.Amount(Math.Max(0, limits.SpendCapMicros!.Value - usage.SpentMicros - usage.ReservedMicros))} " +
                $"{currency} of {RateLimitHeaders.Amount(limits.SpendCapMicros.Value)} {currency} remain" +
                (limits.SpendPeriod == SpendPeriod.Month ? " this month" : "") +
                $", and this call may cost up to {RateLimitHeaders.Amount(estimate.WorstCostMicros ?? 0)} {currency} (max_tokens at the output price). " +
                "Lower max_tokens, or ask the operator to raise the cap."),
            LimitKind.Requests => RateLimited($"This API key is limited to {limits.RequestsPerMinute} requests per minute.", retryAfter),
            LimitKind.Tokens => RateLimited(
                $"This API key is limited to {limits.TokensPerMinute} input and output tokens per minute (a call counts its input estimate and max_tokens until it ends).", retryAfter),
            LimitKind.InputTokens => RateLimited($"This API key is limited to {limits.InputTokensPerMinute} input tokens per minute.", retryAfter),
            LimitKind.OutputTokens => RateLimited(
                $"This API key is limited to {limits.OutputTokensPerMinute} output tokens per minute (a call counts max_tokens until it ends).", retryAfter),
            _ => RateLimited($"This API key may run {limits.ConcurrentStreams} streams at a time.", 1),
        };
    }

    private static ApiError RateLimited(string message, double retryAfterSeconds) =>
        ApiError.From(ApiErrorKind.RateLimited, message) with { RetryAfterSeconds = retryAfterSeconds };

    private void StartSettlement(Reserved reserved, ActualUse actual)
    {
        Interlocked.Increment(ref _pendingSettlements);
        _ = Task.Run(async () =>
        {
            try
            {
                await SettleWithRetriesAsync(reserved, actual);
            }
            finally
            {
                Interlocked.Decrement(ref _pendingSettlements);
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
                await _ledger.SettleAsync(reserved, actual, _stopping.Token);
                return;
            }
            catch (Exception exception) when (exception is StorageUnavailableException or LimitContentionException or OperationCanceledException)
            {
                if (attempt >= _options.SettleAttempts || _stopping.IsCancellationRequested)
                {
                    // The hold (if any) lapses after LeaseDuration and is swept, so slots and reservations come back;
                    // the cost is in the usage record, but not in the spend counter.
                    Log.SettlementLost(_logger, reserved.RequestId, reserved.KeyId, reserved.ReservedMicros, actual.CostMicros, exception);
                    return;
                }

                Log.SettlementRetry(_logger, reserved.RequestId, attempt, exception);
                try
                {
                    await Task.Delay(delay, _time, _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    // Shutting down: one last attempt.
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    /// <summary>Pushes out the holds of calls still running, so only a dead instance's holds ever expire.</summary>
    private void RenewAll()
    {
        if (_active.IsEmpty || Interlocked.Exchange(ref _renewing, 1) == 1)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                var now = _time.GetUtcNow();
                var due = now - (_options.LeaseDuration / 3);
                foreach (var reservation in _active.Values)
                {
                    if (!reservation.Reserved.HasHold || reservation.RenewedAt > due)
                    {
                        continue;
                    }

                    try
                    {
                        if (await _ledger.RenewAsync(reservation.Reserved, now + _options.LeaseDuration, _stopping.Token))
                        {
                            reservation.RenewedAt = now;
                        }
                    }
                    catch (Exception exception) when (exception is StorageUnavailableException or OperationCanceledException)
                    {
                        Log.RenewalFailed(_logger, reservation.Reserved.RequestId, exception);
                    }
                }
            }
            finally
            {
                Volatile.Write(ref _renewing, 0);
            }
        });
    }

    private static string Clip(string value) => value.Length <= 256 ? value : value[..256];

    private sealed class ParsedLimits(KeyLimits? limits, string? error)
    {
        public KeyLimits? Limits { get; } = limits;

        public string? Error { get; } = error;

        public bool Logged { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6101, Level = LogLevel.Error, Message = "Limits store unreachable; refusing a call of key {KeyId}")]
        public static partial void LedgerUnavailable(ILogger logger, string keyId, Exception exception);

        [LoggerMessage(EventId = 6102, Level = LogLevel.Error, Message = "Key {KeyId} has limits that cannot be read ({Problem}); its calls are refused")]
        public static partial void InvalidLimits(ILogger logger, string keyId, string problem);

        [LoggerMessage(EventId = 6103, Level = LogLevel.Warning, Message = "Settling call {RequestId} failed (attempt {Attempt}); retrying")]
        public static partial void SettlementRetry(ILogger logger, string requestId, int attempt, Exception exception);

        [LoggerMessage(EventId = 6104, EventName = "SettlementLost", Level = LogLevel.Critical,
            Message = "Call {RequestId} of key {KeyId} could not be settled: {ReservedMicros} micro-units stay reserved until the hold expires; its cost of {CostMicros} micro-units is not in the spend counter")]
        public static partial void SettlementLost(ILogger logger, string requestId, string keyId, long reservedMicros, long costMicros, Exception exception);

        [LoggerMessage(EventId = 6105, Level = LogLevel.Warning, Message = "Call {RequestId} of key {KeyId} ended without a usage record; its reservation is released")]
        public static partial void Abandoned(ILogger logger, string requestId, string keyId);

        [LoggerMessage(EventId = 6106, Level = LogLevel.Warning, Message = "Renewing the hold of call {RequestId} failed")]
        public static partial void RenewalFailed(ILogger logger, string requestId, Exception exception);

        [LoggerMessage(EventId = 6107, Level = LogLevel.Warning, Message = "{Count} settlements still pending at shutdown")]
        public static partial void SettlementsLeftAtShutdown(ILogger logger, long count);
    }
}
