using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Admin.Keys;

/// <summary>
/// <c>/manage/keys</c> (see docs/admin-api.md): create, list, get (with the counters of its limits), update, delete and
/// rotate client keys. A key's secret is shown once, in the answer that made it; the store keeps a hash.
/// </summary>
public sealed partial class KeysEndpoint(
    AdminAuthorization admin,
    IApiKeyStore store,
    ApiKeyAuthenticator authenticator,
    GovernanceService governance,
    ILimitLedger ledger,
    IOwnedObjectStore objects,
    TimeProvider time,
    ILogger<KeysEndpoint> logger)
{
    /// <summary><c>GET|POST /manage/keys</c>.</summary>
    public Task<IResult> HandleKeysAsync(HttpContext context) => admin.RunAsync(context, "GET, POST", method => method switch
    {
        "GET" => ListAsync(context.RequestAborted),
        "POST" => CreateAsync(context),
        _ => null,
    });

    /// <summary><c>GET|PATCH|DELETE /manage/keys/{id}</c>.</summary>
    public Task<IResult> HandleKeyAsync(HttpContext context, string id) => admin.RunAsync(context, "GET, PATCH, DELETE", method => method switch
    {
        "GET" => GetAsync(id, context.RequestAborted),
        "PATCH" => UpdateAsync(context, id),
        "DELETE" => DeleteAsync(id, context.RequestAborted),
        _ => null,
    });

    /// <summary><c>POST /manage/keys/{id}/rotate</c> <c>{"gracePeriod": "PT1H"}</c>: a new secret; the old ones work until the grace period ends.</summary>
    public Task<IResult> HandleRotateAsync(HttpContext context, string id) => admin.RunAsync(context, "POST", method => method switch
    {
        "POST" => RotateAsync(context, id),
        _ => null,
    });

    private async Task<IResult> CreateAsync(HttpContext context)
    {
        var (document, error) = await KeyRequestBody.ReadAsync(context);
        if (document is null)
        {
            return error!;
        }

        using (document)
        {
            var now = time.GetUtcNow();
            if (KeyRequest.Read(document.RootElement, KeyRequestMode.Create, now, out var invalid) is not { } request)
            {
                return AdminResults.Invalid(invalid!);
            }

            if (CapWithoutPrices(request) is { } uncappable)
            {
                return uncappable;
            }

            var secret = ApiKeyHasher.NewSecret();
            var hash = ApiKeyHasher.Hash(secret);
            var key = request.ApplyTo(new ApiKey
            {
                Id = ApiKeyHasher.IdFromHash(hash),
                Name = request.Name!,
                Hash = hash,
                Hint = ApiKeyHasher.Hint(secret),
                CreatedAt = now,
            });

            if (!await store.CreateAsync(key, context.RequestAborted))
            {
                return new ErrorResult(new ApiError(StatusCodes.Status409Conflict, ErrorTypes.InvalidRequest, "A key with this id exists already; try again."));
            }

            Log.KeyCreated(logger, key.Id);
            return AdminResults.Json(KeyView.From(key, secret), GatewayJsonContext.Default.KeyView, StatusCodes.Status201Created);
        }
    }

    private async Task<IResult> ListAsync(CancellationToken cancellationToken)
    {
        var keys = await store.ListAsync(cancellationToken);
        return AdminResults.Json(new KeyList(keys.Select(static k => KeyView.From(k)).ToArray()), GatewayJsonContext.Default.KeyList);
    }

    private async Task<IResult> GetAsync(string id, CancellationToken cancellationToken)
    {
        var key = await store.GetAsync(id, cancellationToken);
        if (key is null)
        {
            return AdminResults.KeyNotFound(id);
        }

        var view = KeyView.From(key) with { Current = await KeyCounters.ReadAsync(governance, ledger, objects, key, time.GetUtcNow(), cancellationToken) };
        return AdminResults.Json(view, GatewayJsonContext.Default.KeyView);
    }

    private async Task<IResult> UpdateAsync(HttpContext context, string id)
    {
        var (document, error) = await KeyRequestBody.ReadAsync(context);
        if (document is null)
        {
            return error!;
        }

        KeyRequest? request;
        using (document)
        {
            request = KeyRequest.Read(document.RootElement, KeyRequestMode.Update, time.GetUtcNow(), out var invalid);
            if (request is null)
            {
                return AdminResults.Invalid(invalid!);
            }
        }

        if (CapWithoutPrices(request) is { } uncappable)
        {
            return uncappable;
        }

        var before = await store.GetAsync(id, context.RequestAborted);
        if (before is null)
        {
            return AdminResults.KeyNotFound(id);
        }

        var key = request.ApplyTo(before);
        if (!await store.UpdateAsync(key, context.RequestAborted))
        {
            return AdminResults.KeyNotFound(id);
        }

        // A cap that starts (or changes period) counts what the period's records already hold: calls made while the key
        // had no cap never moved its counter.
        if (governance.LimitsOf(key) is { SpendCapMicros: not null } capped &&
            (governance.LimitsOf(before) is not { SpendCapMicros: not null } previous || previous.SpendPeriod != capped.SpendPeriod))
        {
            await ledger.ResetSpendAsync(key.Id, capped, time.GetUtcNow(), key.CreatedAt, context.RequestAborted);
        }

        Forget(key);
        Log.KeyUpdated(logger, key.Id);
        return AdminResults.Json(KeyView.From(key), GatewayJsonContext.Default.KeyView);
    }

    private async Task<IResult> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        var key = await store.GetAsync(id, cancellationToken);
        if (key is null || !await store.DeleteAsync(id, cancellationToken))
        {
            return AdminResults.KeyNotFound(id);
        }

        Forget(key);
        Log.KeyDeleted(logger, id);
        return Results.NoContent();
    }

    private async Task<IResult> RotateAsync(HttpContext context, string id)
    {
        var (document, error) = await KeyRequestBody.ReadAsync(context, emptyAllowed: true);
        if (error is not null)
        {
            return error;
        }

        string? invalid = null;
        var request = document is null ? RotateRequest.Default : RotateRequest.Read(document.RootElement, out invalid);
        document?.Dispose();
        if (request is null)
        {
            return AdminResults.Invalid(invalid!);
        }

        var now = time.GetUtcNow();
        var secret = ApiKeyHasher.NewSecret();
        var newSecret = new KeySecret { Hash = ApiKeyHasher.Hash(secret), Hint = ApiKeyHasher.Hint(secret), CreatedAt = now };
        ApiKey? rotated;
        try
        {
            rotated = await store.RotateAsync(id, newSecret, now + request.GracePeriod, now, context.RequestAborted);
        }
        catch (InvalidOperationException exception)
        {
            return new ErrorResult(new ApiError(StatusCodes.Status409Conflict, ErrorTypes.InvalidRequest, exception.Message));
        }

        if (rotated is null)
        {
            return AdminResults.KeyNotFound(id);
        }

        // This instance forgets the old secrets at once, so their new expiry applies here immediately; other instances
        // pick it up when their cache entry ends (Gateway:Keys:CacheDuration).
        Forget(rotated);

        Log.KeyRotated(logger, rotated.Id, request.GracePeriod.TotalSeconds);
        return AdminResults.Json(KeyView.From(rotated, secret), GatewayJsonContext.Default.KeyView);
    }

    /// <summary>
    /// A spend cap counts only the calls a price applies to; with no price at all on this gateway it could never stop
    /// anything, so it is refused rather than accepted as a promise the gateway cannot keep (docs/limits-and-prices.md).
    /// </summary>
    private ErrorResult? CapWithoutPrices(KeyRequest request) =>
        request.SetsSpendCap && governance.Prices.Count == 0
            ? AdminResults.Invalid("limits.spendCap: this gateway has no prices (Gateway:Prices), so no call could ever count against a spend cap; " +
                                   "set prices first")
            : null;

    /// <summary>This instance forgets every secret of a key at once (other instances within the key cache time).</summary>
    private void Forget(ApiKey key)
    {
        foreach (var secret in key.AllSecrets)
        {
            authenticator.Invalidate(secret.Hash);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Key {KeyId} created")]
        public static partial void KeyCreated(ILogger logger, string keyId);

        [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Key {KeyId} updated")]
        public static partial void KeyUpdated(ILogger logger, string keyId);

        [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Key {KeyId} deleted")]
        public static partial void KeyDeleted(ILogger logger, string keyId);

        [LoggerMessage(EventId = 5006, Level = LogLevel.Information, Message = "Key {KeyId} rotated; old secrets work for {GraceSeconds} s more")]
        public static partial void KeyRotated(ILogger logger, string keyId, double graceSeconds);
    }
}
