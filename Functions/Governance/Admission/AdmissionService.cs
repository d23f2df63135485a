using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// The authorize step on the request path (after model permission and routing, before the upstream call): prices,
/// limits, spend caps (docs/limits-and-prices.md). One call is either refused with a Claude error (429
/// <c>rate_limit_error</c>, 402 <c>billing_error</c>, 403 <c>permission_error</c>, or 529 <c>overloaded_error</c> when
/// the limit ledger cannot answer) or admitted, with the reservation its usage record settles. The answer is an <see cref="Admission"/>; the
/// API layer writes it on the response. A key with no limits costs nothing here: no table access, only the price
/// lookup.
/// </summary>
public sealed partial class AdmissionService(
    ILimitLedger ledger, PriceTable prices, SettlementService settlements, TimeProvider time, IOptions<GatewayOptions> options,
    ILogger<AdmissionService> logger)
{
    private static readonly byte[] CacheControl = "\"cache_control\""u8.ToArray();

    private readonly LimitsOptions _options = options.Value.Limits;
    private readonly ConditionalWeakTable<ApiKey, ParsedLimits> _limits = [];

    /// <summary>
    /// Admits a call or says why not. Not cancellable: an admission is short (the fast-failing storage client bounds
    /// it) and must not be left half-known; a call whose client left is then settled as cancelled, like any other.
    /// <paramref name="counter"/> counts input exactly for <c>count-first</c> (docs/limits-and-prices.md#what-a-hard-cap-guarantees).
    /// </summary>
    /// <param name="key">The calling key.</param>
    /// <param name="requestId">The call's request id (its hold's row).</param>
    /// <param name="messages">The request.</param>
    /// <param name="servedModels">
    /// The model each route would send upstream (after <c>ModelMap</c>), primary first: prices follow the model the
    /// upstream serves, and a call is reserved at the dearest of its routes. Null means the client's model name.
    /// </param>
    /// <param name="counter">Counts input exactly for <c>count-first</c>.</param>
    public async ValueTask<Admission> AdmitAsync(ApiKey key, string requestId, MessagesRequest messages, IReadOnlyList<string>? servedModels = null,
        IInputTokenCounter? counter = null)
    {
        IReadOnlyList<string> served = servedModels is { Count: > 0 } ? servedModels : [messages.Model];
        List<ModelPrice>? routePrices = null;
        string? unpriced = null;
        if (prices.RefusesUnpriced)
        {
            routePrices = PricesOf(served, out unpriced);
            if (unpriced is not null)
            {
                return Admission.Refused(ApiError.From(ApiErrorKind.Permission,
                    $"The model '{Clip(messages.Model)}'{Served(messages.Model, unpriced)} has no price on this gateway, and unpriced models are refused."));
            }
        }

        var limits = LimitsOf(key);
        if (limits is null)
        {
            return Admission.Refused(ApiError.From(ApiErrorKind.Permission,
                "This API key's limits cannot be read; ask the gateway operator to correct them."));
        }

        if (limits.IsEmpty)
        {
            return default;
        }

        routePrices ??= PricesOf(served, out unpriced);

        // A key with a spend cap runs only what the gateway can price in full (docs/limits-and-prices.md#spend-caps-and-unpriced-calls).
        var priced = PricedRequest.None;
        if (limits.SpendCapMicros is not null)
        {
            if (unpriced is not null)
            {
                return Admission.Refused(ApiError.From(ApiErrorKind.Permission,
                    $"The model '{Clip(messages.Model)}'{Served(messages.Model, unpriced)} has no price on this gateway, and this API key has a spend cap: " +
                    "it can only call models with a price. Ask the gateway operator to price the model."));
            }

            priced = PricedRequest.Read(messages.Root, prices.ServerToolUsesWithoutMax);
            if (routePrices.Select(p => p.Unpriceable(priced)).FirstOrDefault(static p => p is not null) is { } problem)
            {
                return Admission.Refused(ApiError.From(ApiErrorKind.Permission,
                    $"This call cannot be priced on this gateway ({problem}), and this API key has a spend cap."));
            }
        }

        var estimate = await EstimateAsync(key.Id, limits, unpriced is null ? routePrices : null, messages, priced, served, counter);
        return await ReserveAsync(key, requestId, limits, estimate, fileOperation: false);
    }

    /// <summary>
    /// Admits a file operation the operator prices (<c>Gateway:Files:Prices</c>) for a key with a spend cap: its price is
    /// reserved against the cap as a Messages call's worst case is, and its usage record's cost settles it; it counts
    /// in the key's <c>requestsPerMinute</c> as every file call does (docs/files.md#usage-and-prices). Null when the
    /// operation is free or the key has no spend cap: the caller counts the call with <see cref="RequestRate"/>.
    /// </summary>
    public async ValueTask<Admission?> AdmitFileOperationAsync(ApiKey key, string requestId, string operation)
    {
        if (!prices.FileOperationPrices.TryGetValue(operation, out var price) || price <= 0 || LimitsOf(key) is not { SpendCapMicros: not null } limits)
        {
            return null;
        }

        return await ReserveAsync(key, requestId, limits, new CallEstimate(0, 0, Money.ToMicros(price), Stream: false), fileOperation: true);
    }

    /// <summary>Asks the ledger to admit the call and hold what it may use; fails closed.</summary>
    private async ValueTask<Admission> ReserveAsync(ApiKey key, string requestId, KeyLimits limits, CallEstimate estimate, bool fileOperation)
    {
        var now = time.GetUtcNow();
        AdmissionOutcome outcome;
        try
        {
            outcome = await ledger.AdmitAsync(new AdmissionRequest
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
            Log.LimitLedgerUnavailable(logger, key.Id, exception);
            return Admission.Refused(ApiError.From(ApiErrorKind.StorageUnavailable, "The limits store is temporarily unavailable; please retry."));
        }
        catch (LimitContentionException)
        {
            return Admission.Refused(ApiError.From(ApiErrorKind.RateLimited, "Too many simultaneous requests for this API key; please retry.") with
            {
                RetryAfterSeconds = 1,
            });
        }

        var status = new RateLimitStatus(limits, outcome.Usage, outcome.WindowStart, now, estimate.Stream);
        if (!outcome.Admitted)
        {
            return new Admission(Refusal(outcome, limits, estimate, now, fileOperation), status, null);
        }

        var reservation = outcome.Reserved is { IsEmpty: false } reserved ? settlements.Track(reserved, now) : null;
        return new Admission(null, status, reservation);
    }

    /// <summary>A key's parsed limits (cached per key object, so a cached key is parsed once); null when they cannot be read.</summary>
    public KeyLimits? LimitsOf(ApiKey key)
    {
        var parsed = _limits.GetValue(key, static k => new ParsedLimits(KeyLimits.Parse(k.LimitsJson, out var error), error));
        if (parsed.Limits is null && parsed.Logged is false)
        {
            parsed.Logged = true;
            Log.InvalidLimits(logger, key.Id, parsed.Error ?? "");
        }

        return parsed.Limits;
    }

    /// <summary>
    /// What the call may use. Token limits count the tokenizer's estimate (with its margin); a spend cap reserves the
    /// worst case of the input's hard bound (<see cref="InputReservation"/>) and of max_tokens, so that no call can
    /// cost more than it reserved (docs/limits-and-prices.md#what-a-hard-cap-guarantees).
    /// </summary>
    private async ValueTask<CallEstimate> EstimateAsync(
        string keyId, KeyLimits limits, List<ModelPrice>? routePrices, MessagesRequest messages, PricedRequest priced,
        IReadOnlyList<string> served, IInputTokenCounter? counter)
    {
        var costed = limits.SpendCapMicros is not null && routePrices is not null;
        long input = 0;
        if (limits.HasTokenLimit)
        {
            input = (long)Math.Ceiling(TokenEstimator.Shared.EstimateRequest(messages.Root) * Math.Max(1, _options.InputEstimateMargin));
        }

        if (!costed)
        {
            return new CallEstimate(input, messages.MaxTokens, null, messages.Stream);
        }

        var bound = InputBoundReader.Read(messages.Root);
        long? counted = null;
        if (bound.HasUnmeasured && bound.CountStandsForInput && counter is not null && UnmeasuredInputModes.IsCountFirst(_options.UnmeasuredInput))
        {
            counted = await counter.CountAsync(messages);
            if (counted is null)
            {
                Log.CountFailed(logger, keyId);
            }
        }

        var window = InputReservation.ContextWindow(_options, messages.Model, messages.AnthropicBeta);
        foreach (var model in served)
        {
            window = Math.Max(window, InputReservation.ContextWindow(_options, model, messages.AnthropicBeta));
        }

        var reserved = InputReservation.Tokens(bound, window, _options, counted);
        // The dearest route: a fallback may serve the call at its own model's price.
        var mayWriteCache = JsonNames.Mentions(messages.Body, messages.Root, CacheControl, "cache_control");
        var worst = routePrices!.Max(p => p.WorstCaseMicros(reserved, messages.MaxTokens, mayWriteCache, priced));
        return new CallEstimate(input, messages.MaxTokens, worst, messages.Stream);
    }

    private ApiError Refusal(AdmissionOutcome outcome, KeyLimits limits, CallEstimate estimate, DateTimeOffset now, bool fileOperation)
    {
        var usage = outcome.Usage;
        var untilReset = outcome.WindowStart + AdmissionPolicy.Window - now;
        var retryAfter = Math.Clamp(untilReset.TotalSeconds, 1, 60);
        var currency = prices.Currency;
        return outcome.Refused switch
        {
            LimitKind.Spend => ApiError.From(ApiErrorKind.Billing,
                $"This API key's spend cap does not cover this {(fileOperation ? "file operation" : "call")}: " +
                $"{RateLimitHeaders.Amount(Math.Max(0, limits.SpendCapMicros!.Value - usage.SpentMicros - usage.ReservedMicros))} " +
                $"{currency} of {RateLimitHeaders.Amount(limits.SpendCapMicros.Value)} {currency} remain" +
                (limits.SpendPeriod == SpendPeriod.Month ? " this month" : "") +
                (fileOperation
                    ? $", and it costs {RateLimitHeaders.Amount(estimate.WorstCostMicros ?? 0)} {currency}. Ask the operator to raise the cap."
                    : $", and it may cost up to {RateLimitHeaders.Amount(estimate.WorstCostMicros ?? 0)} {currency} " +
                      "(its input at the most it can be billed for, max_tokens at the output price). " +
                      "Lower max_tokens, or ask the operator to raise the cap.")),
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

    /// <summary>The price of each served model; <paramref name="unpriced"/> names the first that has none.</summary>
    private List<ModelPrice> PricesOf(IReadOnlyList<string> servedModels, out string? unpriced)
    {
        unpriced = null;
        var found = new List<ModelPrice>(servedModels.Count);
        foreach (var model in servedModels)
        {
            if (prices.Find(model) is { } price)
            {
                found.Add(price);
            }
            else
            {
                unpriced ??= model;
            }
        }

        return found;
    }

    private static string Served(string model, string served) => served == model ? "" : $" (served as '{Clip(served)}')";

    private static string Clip(string value) => value.Length <= 256 ? value : value[..256];

    private sealed class ParsedLimits(KeyLimits? limits, string? error)
    {
        public KeyLimits? Limits { get; } = limits;

        public string? Error { get; } = error;

        public bool Logged { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6101, Level = LogLevel.Error, Message = "Limit ledger unreachable; refusing a call of key {KeyId}")]
        public static partial void LimitLedgerUnavailable(ILogger logger, string keyId, Exception exception);

        [LoggerMessage(EventId = 6102, Level = LogLevel.Error, Message = "Key {KeyId} has limits that cannot be read ({Problem}); its calls are refused")]
        public static partial void InvalidLimits(ILogger logger, string keyId, string problem);

        [LoggerMessage(EventId = 6121, Level = LogLevel.Warning, Message = "The upstream could not count the input of a call of key {KeyId}; its worst case is reserved")]
        public static partial void CountFailed(ILogger logger, string keyId);
    }
}
