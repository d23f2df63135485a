using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// The per-minute counting of calls that never reach admission (docs/limits-and-prices.md#count_tokens-and-refused-calls):
/// a call refused before it (invalid, a model the key may not use, a model no upstream serves) counts against the
/// key's <c>requestsPerMinute</c>, and <c>count_tokens</c> has a rate of its own, so neither is an unlimited side door.
/// A key without those limits costs nothing here.
/// </summary>
public sealed partial class RequestRate(GovernanceService governance, ILimitLedger ledger, TimeProvider time, ILogger<RequestRate> logger)
{
    /// <summary>
    /// Counts a refused call in the key's request window. Null keeps the refusal as it is; a window already full makes
    /// it the <c>429</c> to answer instead, so a key that floods refusals is limited like one that floods calls. Storage
    /// that cannot count keeps the refusal (it costs the upstream nothing).
    /// </summary>
    public async ValueTask<ApiError?> CountRefusalAsync(ApiKey key)
    {
        if (governance.LimitsOf(key)?.RequestsPerMinute is not { } limit)
        {
            return null;
        }

        var counted = await CountAsync(key, LimitWindowEntity.Row, limit);
        return counted is { Counted: false } full
            ? RateLimited($"This API key is limited to {limit} requests per minute, refused requests included.", full)
            : null;
    }

    /// <summary>
    /// Admits a <c>count_tokens</c> call under the key's <c>countTokensPerMinute</c> (else its <c>requestsPerMinute</c>),
    /// counted apart from Messages calls; null when admitted. Like admission, it fails closed: limits that cannot be
    /// read refuse the call, and so does storage that cannot count it (<c>529</c>).
    /// </summary>
    public ValueTask<ApiError?> AdmitCountTokensAsync(ApiKey key) =>
        AdmitAsync(key, static limits => limits.CountTokensLimit, LimitWindowEntity.CountTokensRow,
            static limit => $"This API key is limited to {limit} count_tokens calls per minute.");

    /// <summary>
    /// Admits a call of the Message Batches or Files API under the key's <c>requestsPerMinute</c>, counted with its
    /// Messages calls (docs/limits-and-prices.md#count_tokens-and-refused-calls): listing, retrieving or uploading is
    /// not a way around the key's rate. Null when admitted; fails closed as <see cref="AdmitCountTokensAsync"/> does.
    /// </summary>
    public ValueTask<ApiError?> AdmitOperationAsync(ApiKey key) =>
        AdmitAsync(key, static limits => limits.RequestsPerMinute, LimitWindowEntity.Row,
            static limit => $"This API key is limited to {limit} requests per minute, batch and file calls included.");

    private async ValueTask<ApiError?> AdmitAsync(ApiKey key, Func<KeyLimits, long?> limitOf, string counter, Func<long, string> refusal)
    {
        var limits = governance.LimitsOf(key);
        if (limits is null)
        {
            return ApiError.From(ApiErrorKind.Permission, "This API key's limits cannot be read; ask the gateway operator to correct them.");
        }

        if (limitOf(limits) is not { } limit)
        {
            return null;
        }

        var counted = await CountAsync(key, counter, limit);
        return counted switch
        {
            null => ApiError.From(ApiErrorKind.StorageUnavailable, "The limits store is temporarily unavailable; please retry."),
            { Counted: false } full => RateLimited(refusal(limit), full),
            _ => null,
        };
    }

    /// <summary>The count, or null when the ledger could not answer.</summary>
    private async ValueTask<WindowCount?> CountAsync(ApiKey key, string counter, long limit)
    {
        try
        {
            // Not cancellable, like an admission: short, and never left half-known.
            return await ledger.CountAsync(key.Id, counter, limit, time.GetUtcNow(), CancellationToken.None);
        }
        catch (Exception exception) when (exception is StorageUnavailableException or LimitContentionException)
        {
            Log.NotCounted(logger, key.Id, counter, exception);
            return null;
        }
    }

    private ApiError RateLimited(string message, WindowCount window)
    {
        var untilReset = window.WindowStart + AdmissionPolicy.Window - time.GetUtcNow();
        return ApiError.From(ApiErrorKind.RateLimited, message) with { RetryAfterSeconds = Math.Clamp(untilReset.TotalSeconds, 1, 60) };
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6150, Level = LogLevel.Warning, Message = "Call of key {KeyId} not counted in {Counter}: limit ledger unavailable")]
        public static partial void NotCounted(ILogger logger, string keyId, string counter, Exception exception);
    }
}
