using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// A batch's money at creation (docs/batches.md#billing): its worst case at batch prices (<see cref="BatchWorstCase"/>)
/// reserved against the key's spend cap in one atomic admission of the limit ledger, like a call's, with a hold that
/// lasts <see cref="BatchSettlementOptions.HoldDuration"/> (no lease renews it; settlement replaces it with the
/// results' cost). A batch counts as one request in the key's requests per minute and never in its tokens per minute:
/// Anthropic limits batches apart from calls. A key without limits touches no table.
/// </summary>
public sealed partial class BatchBilling(
    GovernanceService governance, ILimitLedger ledger, TimeProvider time, IOptions<GatewayOptions> options,
    IOptions<BatchSettlementOptions> batchOptions, ILogger<BatchBilling> logger) : IBatchBilling
{
    public BatchCostTally StartTally(ApiKey key) =>
        new BatchWorstCase(governance.Prices, options.Value.Limits, governance.LimitsOf(key) is { SpendCapMicros: not null });

    public async Task<BatchAdmission> ReserveAsync(ApiKey key, string batchId, BatchCostTally tally, CancellationToken cancellationToken)
    {
        if (governance.LimitsOf(key) is not { } limits)
        {
            return Refused(ApiError.From(ApiErrorKind.Permission, "This API key's limits cannot be read; ask the gateway operator to correct them."));
        }

        // Requests per minute and the spend cap only: no tokens per minute, no stream slot.
        var counted = limits with { TokensPerMinute = null, InputTokensPerMinute = null, OutputTokensPerMinute = null, ConcurrentStreams = null };
        if (counted.IsEmpty)
        {
            return new BatchAdmission(null, null);
        }

        var worst = counted.SpendCapMicros is null ? (long?)null : tally.WorstCaseMicros;
        AdmissionOutcome outcome;
        try
        {
            outcome = await ledger.AdmitAsync(new AdmissionRequest
            {
                KeyId = key.Id,
                RequestId = batchId,
                Limits = counted,
                Estimate = new CallEstimate(0, 0, worst, Stream: false),
                Now = time.GetUtcNow(),
                KeyCreatedAt = key.CreatedAt,
                LeaseDuration = batchOptions.Value.HoldDuration,
            }, cancellationToken);
        }
        catch (StorageUnavailableException exception)
        {
            Log.LimitLedgerUnavailable(logger, key.Id, exception);
            return Refused(ApiError.From(ApiErrorKind.StorageUnavailable, "The limits store is temporarily unavailable; please retry."));
        }
        catch (LimitContentionException)
        {
            return Refused(ApiError.From(ApiErrorKind.RateLimited, "Too many simultaneous requests for this API key; please retry.") with { RetryAfterSeconds = 1 });
        }

        if (!outcome.Admitted)
        {
            return Refused(Refusal(outcome, counted, worst ?? 0));
        }

        var reserved = outcome.Reserved is { HasHold: true } hold ? hold with { WindowStart = null, InputTokens = 0, OutputTokens = 0 } : null;
        return new BatchAdmission(reserved, null);
    }

    public async Task ReleaseAsync(BatchAdmission admission, CancellationToken cancellationToken)
    {
        if (admission.Reserved is { HasHold: true } reserved)
        {
            await ledger.SettleOnceAsync(reserved, default, cancellationToken);
        }
    }

    private ApiError Refusal(AdmissionOutcome outcome, KeyLimits limits, long worst)
    {
        var currency = governance.Prices.Currency;
        if (outcome.Refused != LimitKind.Spend)
        {
            var untilReset = outcome.WindowStart + AdmissionPolicy.Window - time.GetUtcNow();
            return ApiError.From(ApiErrorKind.RateLimited,
                $"This API key is limited to {limits.RequestsPerMinute} requests per minute (a message batch counts as one).") with
            {
                RetryAfterSeconds = Math.Clamp(untilReset.TotalSeconds, 1, 60),
            };
        }

        var left = Math.Max(0, limits.SpendCapMicros!.Value - outcome.Usage.SpentMicros - outcome.Usage.ReservedMicros);
        return ApiError.From(ApiErrorKind.Billing,
            $"This API key's spend cap does not cover this batch: {RateLimitHeaders.Amount(left)} {currency} of {RateLimitHeaders.Amount(limits.SpendCapMicros.Value)} {currency} remain" +
            (limits.SpendPeriod == SpendPeriod.Month ? " this month" : "") +
            $", and it may cost up to {RateLimitHeaders.Amount(worst)} {currency} at batch prices " +
            "(each request's input at the most it can be billed for, its max_tokens at the output price). " +
            "Send fewer requests, lower max_tokens, or ask the operator to raise the cap.");
    }

    private static BatchAdmission Refused(ApiError error) => new(null, error);

    private static partial class Log
    {
        [LoggerMessage(EventId = 6401, Level = LogLevel.Error, Message = "Limit ledger unreachable; refusing a message batch of key {KeyId}")]
        public static partial void LimitLedgerUnavailable(ILogger logger, string keyId, Exception exception);
    }
}
