using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Xml;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Admin;

/// <summary>
/// The administration API (DESIGN.md, "Admin API"), under <c>/manage</c> because the Functions host reserves
/// <c>/admin</c>: keys (create, list, get, update, delete, rotate), usage and statements.
/// <c>Authorization: Bearer &lt;Gateway:AdminKey&gt;</c>; without an admin key configured it answers 404, as if it did
/// not exist.
/// </summary>
public sealed partial class AdminHandler(
    IApiKeyStore store,
    IUsageStore usageStore,
    ApiKeyAuthenticator authenticator,
    GovernanceService governance,
    ILimitLedger ledger,
    TimeProvider time,
    IOptions<GatewayOptions> options,
    ILogger<AdminHandler> logger)
{
    private const int MaxBodyBytes = 64 * 1024;
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1000;

    private static readonly TimeSpan DefaultGracePeriod = TimeSpan.FromHours(1);
    private static readonly TimeSpan MaxGracePeriod = TimeSpan.FromDays(90);

    private readonly byte[]? _adminKeyHash = HashAdminKey(options.Value.AdminKey, logger);

    public Task<IResult> HandleKeysAsync(HttpContext context) => RunAsync(context, () =>
        HttpMethods.IsPost(context.Request.Method) ? CreateKeyAsync(context) : ListKeysAsync(context.RequestAborted));

    public Task<IResult> HandleKeyAsync(HttpContext context, string id) => RunAsync(context, () => context.Request.Method switch
    {
        var m when HttpMethods.IsGet(m) => GetKeyAsync(id, context.RequestAborted),
        var m when HttpMethods.IsPatch(m) => UpdateKeyAsync(context, id),
        _ => DeleteKeyAsync(id, context.RequestAborted),
    });

    public Task<IResult> HandleUsageAsync(HttpContext context) => RunAsync(context, () => GetUsageAsync(context));

    /// <summary><c>POST /manage/keys/{id}/rotate</c> <c>{"gracePeriod": "PT1H"}</c>: a new secret; the old ones work until the grace period ends.</summary>
    public Task<IResult> HandleRotateAsync(HttpContext context, string id) => RunAsync(context, () => RotateKeyAsync(context, id));

    /// <summary><c>GET /manage/keys/{id}/statement?from=&amp;to=&amp;period=&amp;format=json|csv</c>.</summary>
    public Task<IResult> HandleStatementAsync(HttpContext context, string id) => RunAsync(context, () => GetStatementAsync(context, id));

    private async Task<IResult> RunAsync(HttpContext context, Func<Task<IResult>> action)
    {
        GatewayContext.Of(context, time);
        if (_adminKeyHash is null)
        {
            return new ErrorResult(ApiError.From(ApiErrorKind.NotFound, "Not found"));
        }

        if (!IsAdmin(context.Request))
        {
            return new ErrorResult(ApiError.From(ApiErrorKind.Authentication, "invalid admin key"));
        }

        try
        {
            return await action();
        }
        catch (StorageUnavailableException exception)
        {
            Log.StorageUnavailable(logger, exception);
            return new ErrorResult(ApiError.From(ApiErrorKind.StorageUnavailable, "Storage is temporarily unavailable; please retry."));
        }
    }

    /// <summary>
    /// The admin key's digest, or null (admin API off). A Key Vault reference the platform could not resolve stays in
    /// the setting as its literal <c>@Microsoft.KeyVault(…)</c> text; that text must never become the admin key.
    /// </summary>
    private static byte[]? HashAdminKey(string? adminKey, ILogger logger)
    {
        if (string.IsNullOrEmpty(adminKey))
        {
            return null;
        }

        if (adminKey.StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase))
        {
            Log.UnresolvedAdminKey(logger);
            return null;
        }

        return SHA256.HashData(Encoding.UTF8.GetBytes(adminKey));
    }

    /// <summary>Constant-time: compares SHA-256 digests of equal length, never the secrets themselves.</summary>
    private bool IsAdmin(HttpRequest request)
    {
        var credentials = ClientCredentials.Read(request);
        var presented = credentials.BearerToken ?? credentials.ApiKey;
        if (presented is null)
        {
            return false;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        return CryptographicOperations.FixedTimeEquals(hash, _adminKeyHash);
    }

    private async Task<IResult> CreateKeyAsync(HttpContext context)
    {
        var (document, error) = await ReadJsonAsync(context);
        if (document is null)
        {
            return error!;
        }

        using (document)
        {
            CreateKeyRequest? body;
            try
            {
                body = document.RootElement.Deserialize(GatewayJsonContext.Default.CreateKeyRequest);
            }
            catch (JsonException exception)
            {
                return Invalid("Invalid key request: " + exception.Message.Split(" Path:")[0]);
            }

            if (string.IsNullOrWhiteSpace(body?.Name))
            {
                return Invalid("name: Field required");
            }

            if (body.Name.Length > 200)
            {
                return Invalid("name: String should have at most 200 characters");
            }

            if (body.Limits is { } limitsElement && KeyLimits.Parse(limitsElement, out var limitsError) is null)
            {
                return Invalid(limitsError!);
            }

            var now = time.GetUtcNow();
            if (body.ExpiresAt is { } expires && expires <= now)
            {
                return Invalid("expiresAt: must be in the future");
            }

            var secret = ApiKeyHasher.NewSecret();
            var hash = ApiKeyHasher.Hash(secret);
            var key = new ApiKey
            {
                Id = ApiKeyHasher.IdFromHash(hash),
                Name = body.Name.Trim(),
                Hash = hash,
                Hint = ApiKeyHasher.Hint(secret),
                CreatedAt = now,
                ExpiresAt = body.ExpiresAt,
                Models = CleanModels(body.Models),
                LimitsJson = body.Limits is { ValueKind: JsonValueKind.Object } limits ? limits.GetRawText() : null,
            };

            if (!await store.CreateAsync(key, context.RequestAborted))
            {
                return new ErrorResult(new ApiError(409, ErrorTypes.InvalidRequest, "A key with this id exists already; try again."));
            }

            Log.KeyCreated(logger, key.Id);
            return Json(KeyView.From(key, secret), GatewayJsonContext.Default.KeyView, StatusCodes.Status201Created);
        }
    }

    private async Task<IResult> ListKeysAsync(CancellationToken cancellationToken)
    {
        var keys = await store.ListAsync(cancellationToken);
        return Json(new KeyList(keys.Select(static k => KeyView.From(k)).ToArray()), GatewayJsonContext.Default.KeyList);
    }

    private async Task<IResult> GetKeyAsync(string id, CancellationToken cancellationToken)
    {
        var key = await store.GetAsync(id, cancellationToken);
        if (key is null)
        {
            return KeyNotFound(id);
        }

        var view = KeyView.From(key);
        if (governance.LimitsOf(key) is { IsEmpty: false } limits)
        {
            var now = time.GetUtcNow();
            var usage = await ledger.ReadAsync(key.Id, limits, now, cancellationToken);
            view = view with
            {
                Current = new LimitState
                {
                    Requests = usage.Requests,
                    InputTokens = usage.InputTokens,
                    OutputTokens = usage.OutputTokens,
                    WindowReset = AdmissionPolicy.WindowStart(now) + AdmissionPolicy.Window,
                    SpendPeriod = SpendPeriods.Key(limits.SpendPeriod, now),
                    Spent = Money.FromMicros(usage.SpentMicros),
                    Reserved = Money.FromMicros(usage.ReservedMicros),
                    Currency = governance.Prices.Currency,
                    ActiveStreams = usage.ActiveStreams,
                },
            };
        }

        return Json(view, GatewayJsonContext.Default.KeyView);
    }

    private async Task<IResult> RotateKeyAsync(HttpContext context, string id)
    {
        var gracePeriod = DefaultGracePeriod;
        var body = await RequestBody.ReadAsync(context.Request, MaxBodyBytes, context.RequestAborted);
        if (body is null)
        {
            return new ErrorResult(ApiError.From(ApiErrorKind.RequestTooLarge, $"Request exceeds {MaxBodyBytes} bytes."));
        }

        if (body.Length > 0)
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return Invalid("Input should be a valid dictionary");
                }

                foreach (var property in document.RootElement.EnumerateObject())
                {
                    if (property.Name != "gracePeriod")
                    {
                        return Invalid($"{property.Name}: unknown field (rotate takes gracePeriod)");
                    }

                    if (property.Value.ValueKind != JsonValueKind.String || !TryParseDuration(property.Value.GetString()!, out gracePeriod))
                    {
                        return Invalid($"gracePeriod: Input should be an ISO 8601 duration from PT0S to P{MaxGracePeriod.Days}D, such as PT1H");
                    }
                }
            }
            catch (JsonException exception)
            {
                return Invalid("There was an error parsing the body: " + exception.Message.Split(" Path:")[0]);
            }
        }

        var now = time.GetUtcNow();
        var secret = ApiKeyHasher.NewSecret();
        var newSecret = new KeySecret { Hash = ApiKeyHasher.Hash(secret), Hint = ApiKeyHasher.Hint(secret), CreatedAt = now };
        ApiKey? rotated;
        try
        {
            rotated = await store.RotateAsync(id, newSecret, now + gracePeriod, now, context.RequestAborted);
        }
        catch (InvalidOperationException exception)
        {
            return new ErrorResult(new ApiError(409, ErrorTypes.InvalidRequest, exception.Message));
        }

        if (rotated is null)
        {
            return KeyNotFound(id);
        }

        // This instance forgets the old secrets at once, so their new expiry applies here immediately; other instances
        // pick it up when their cache entry ends (Gateway:Keys:CacheDuration).
        Forget(rotated);

        Log.KeyRotated(logger, rotated.Id, gracePeriod.TotalSeconds);
        return Json(KeyView.From(rotated, secret), GatewayJsonContext.Default.KeyView);
    }

    private async Task<IResult> GetStatementAsync(HttpContext context, string id)
    {
        if (ApiKeyHasher.PartitionFromId(id) is null)
        {
            return KeyNotFound(id);
        }

        var query = context.Request.Query;
        var now = time.GetUtcNow();
        var from = SpendPeriods.Start(SpendPeriod.Month, now, now);
        var to = from.AddMonths(1);
        if (query.TryGetValue("period", out var periodText))
        {
            if (!DateTimeOffset.TryParseExact(periodText.ToString(), "yyyy-MM", CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out from))
            {
                return Invalid("period: Input should be a month, such as 2026-11");
            }

            to = from.AddMonths(1);
        }

        if (query.TryGetValue("from", out var fromText) && !TryParseTime(fromText.ToString(), out from))
        {
            return Invalid("from: Input should be an ISO 8601 date or time");
        }

        if (query.TryGetValue("to", out var toText) && !TryParseTime(toText.ToString(), out to))
        {
            return Invalid("to: Input should be an ISO 8601 date or time");
        }

        if (from >= to)
        {
            return Invalid("from: must be before to");
        }

        var format = query["format"].ToString();
        if (format.Length > 0 && format is not ("json" or "csv"))
        {
            return Invalid("format: Input should be 'json' or 'csv'");
        }

        Statement statement;
        try
        {
            statement = await StatementBuilder.BuildAsync(usageStore, id, from, to, context.RequestAborted);
        }
        catch (Exception exception) when (exception is not StorageUnavailableException && StorageErrors.IsUnavailable(exception, context.RequestAborted))
        {
            throw new StorageUnavailableException("The usage table could not be reached.", exception);
        }

        if (format != "csv")
        {
            return Json(statement, GatewayJsonContext.Default.Statement);
        }

        var name = string.Create(CultureInfo.InvariantCulture, $"statement-{id}-{from:yyyyMMdd'T'HHmmss}-{to:yyyyMMdd'T'HHmmss}.csv");
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{name}\"";
        return Results.Text(StatementCsv.Write(statement), "text/csv; charset=utf-8", Encoding.UTF8);
    }

    /// <summary>ISO 8601 durations (<c>PT1H</c>, <c>P1D</c>, <c>PT0S</c>), none negative and none over <see cref="MaxGracePeriod"/>.</summary>
    private static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        if (!text.StartsWith('P'))
        {
            return false;
        }

        try
        {
            duration = XmlConvert.ToTimeSpan(text);
        }
        catch (FormatException)
        {
            return false;
        }
        catch (OverflowException)
        {
            return false;
        }

        return duration >= TimeSpan.Zero && duration <= MaxGracePeriod;
    }

    private async Task<IResult> UpdateKeyAsync(HttpContext context, string id)
    {
        var (document, error) = await ReadJsonAsync(context);
        if (document is null)
        {
            return error!;
        }

        using (document)
        {
            var key = await store.GetAsync(id, context.RequestAborted);
            if (key is null)
            {
                return KeyNotFound(id);
            }

            var before = key;

            // A PATCH tells "absent" (keep) from null (clear), so it is read field by field.
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var value = property.Value;
                switch (property.Name)
                {
                    case "name" when value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString()):
                        key = key with { Name = value.GetString()!.Trim() };
                        break;
                    case "disabled" when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                        key = key with { Disabled = value.GetBoolean() };
                        break;
                    case "models" when value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(static m => m.ValueKind == JsonValueKind.String):
                        key = key with { Models = CleanModels(value.EnumerateArray().Select(static m => m.GetString()!).ToArray()) };
                        break;
                    case "models" when value.ValueKind == JsonValueKind.Null:
                        key = key with { Models = [] };
                        break;
                    case "expiresAt" when value.ValueKind == JsonValueKind.Null:
                        key = key with { ExpiresAt = null };
                        break;
                    case "expiresAt" when value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var expiresAt):
                        key = key with { ExpiresAt = expiresAt };
                        break;
                    case "limits" when value.ValueKind == JsonValueKind.Object:
                        if (KeyLimits.Parse(value, out var limitsError) is null)
                        {
                            return Invalid(limitsError!);
                        }

                        key = key with { LimitsJson = value.GetRawText() };
                        break;
                    case "limits" when value.ValueKind == JsonValueKind.Null:
                        key = key with { LimitsJson = null };
                        break;
                    case "name" or "disabled" or "models" or "expiresAt" or "limits":
                        return Invalid($"{property.Name}: invalid value");
                    default:
                        return Invalid($"{property.Name}: unknown field (updatable: name, disabled, models, expiresAt, limits)");
                }
            }

            if (!await store.UpdateAsync(key, context.RequestAborted))
            {
                return KeyNotFound(id);
            }

            // A cap that starts (or changes period) counts what the period's records already hold: calls made while
            // the key had no cap never moved its counter.
            if (governance.LimitsOf(key) is { SpendCapMicros: not null } capped &&
                (governance.LimitsOf(before) is not { SpendCapMicros: not null } previous || previous.SpendPeriod != capped.SpendPeriod))
            {
                await ledger.ResetSpendAsync(key.Id, capped, time.GetUtcNow(), key.CreatedAt, context.RequestAborted);
            }

            Forget(key);
            Log.KeyUpdated(logger, key.Id);
            return Json(KeyView.From(key), GatewayJsonContext.Default.KeyView);
        }
    }

    private async Task<IResult> DeleteKeyAsync(string id, CancellationToken cancellationToken)
    {
        var key = await store.GetAsync(id, cancellationToken);
        if (key is null || !await store.DeleteAsync(id, cancellationToken))
        {
            return KeyNotFound(id);
        }

        Forget(key);
        Log.KeyDeleted(logger, id);
        return Results.NoContent();
    }

    private async Task<IResult> GetUsageAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var to = time.GetUtcNow();
        var from = to.AddDays(-30);
        if (query.TryGetValue("to", out var toText) && !TryParseTime(toText.ToString(), out to))
        {
            return Invalid("to: Input should be an ISO 8601 date or time");
        }

        if (query.TryGetValue("from", out var fromText))
        {
            if (!TryParseTime(fromText.ToString(), out from))
            {
                return Invalid("from: Input should be an ISO 8601 date or time");
            }
        }
        else
        {
            from = to.AddDays(-30);
        }

        if (from >= to)
        {
            return Invalid("from: must be before to");
        }

        var limit = DefaultPageSize;
        if (query.TryGetValue("limit", out var limitText) &&
            (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxPageSize))
        {
            return Invalid($"limit: Input should be an integer from 1 to {MaxPageSize}");
        }

        var skip = 0;
        if (query.TryGetValue("cursor", out var cursorText) &&
            (!int.TryParse(cursorText, NumberStyles.None, CultureInfo.InvariantCulture, out skip) || skip < 0))
        {
            return Invalid("cursor: invalid cursor");
        }

        string[] keyIds;
        var keyId = query["keyId"].ToString();
        if (keyId.Length > 0)
        {
            if (ApiKeyHasher.PartitionFromId(keyId) is null)
            {
                return Invalid("keyId: not a key id");
            }

            keyIds = [keyId];
        }
        else
        {
            keyIds = (await store.ListAsync(context.RequestAborted)).Select(static k => k.Id).Order(StringComparer.Ordinal).ToArray();
        }

        var totals = new Dictionary<(string, string, string), UsageTotal>();
        var records = new List<UsageRecord>(Math.Min(limit, 128));
        var seen = 0;
        var more = false;
        try
        {
            foreach (var id in keyIds)
            {
                await foreach (var record in usageStore.QueryAsync(id, from, to, context.RequestAborted))
                {
                    var day = record.StartedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                    var model = record.Model ?? "";
                    if (!totals.TryGetValue((id, day, model), out var total))
                    {
                        total = new UsageTotal { KeyId = id, Day = day, Model = model };
                        totals.Add((id, day, model), total);
                    }

                    total.Calls++;
                    total.InputTokens += record.InputTokens;
                    total.OutputTokens += record.OutputTokens;
                    total.CacheCreationInputTokens += record.CacheCreationInputTokens;
                    total.CacheReadInputTokens += record.CacheReadInputTokens;
                    total.EstimatedCalls += record.Estimated ? 1 : 0;

                    if (seen++ < skip)
                    {
                        continue;
                    }

                    if (records.Count < limit)
                    {
                        records.Add(record);
                    }
                    else
                    {
                        more = true;
                    }
                }
            }
        }
        catch (Exception exception) when (exception is not StorageUnavailableException && StorageErrors.IsUnavailable(exception, context.RequestAborted))
        {
            throw new StorageUnavailableException("The usage table could not be reached.", exception);
        }

        var report = new UsageReport
        {
            KeyId = keyId.Length > 0 ? keyId : null,
            From = from,
            To = to,
            Totals = totals.Values.OrderBy(static t => t.KeyId, StringComparer.Ordinal).ThenBy(static t => t.Day, StringComparer.Ordinal)
                .ThenBy(static t => t.Model, StringComparer.Ordinal).ToArray(),
            Records = records,
            NextCursor = more ? (skip + records.Count).ToString(CultureInfo.InvariantCulture) : null,
        };
        return Json(report, GatewayJsonContext.Default.UsageReport);
    }

    private static async Task<(JsonDocument? Document, IResult? Error)> ReadJsonAsync(HttpContext context)
    {
        var body = await RequestBody.ReadAsync(context.Request, MaxBodyBytes, context.RequestAborted);
        if (body is null)
        {
            return (null, new ErrorResult(ApiError.From(ApiErrorKind.RequestTooLarge, $"Request exceeds {MaxBodyBytes} bytes.")));
        }

        try
        {
            var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                return (null, Invalid("Input should be a valid dictionary"));
            }

            return (document, null);
        }
        catch (JsonException exception)
        {
            return (null, Invalid("There was an error parsing the body: " + exception.Message.Split(" Path:")[0]));
        }
    }

    /// <summary>This instance forgets every secret of a key at once (other instances within the key cache time).</summary>
    private void Forget(ApiKey key)
    {
        foreach (var secret in key.AllSecrets)
        {
            authenticator.Invalidate(secret.Hash);
        }
    }

    private static string[] CleanModels(IEnumerable<string?>? models) =>
        models?.Where(static m => !string.IsNullOrWhiteSpace(m)).Select(static m => m!.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToArray() ?? [];

    private static bool TryParseTime(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);

    private static ErrorResult Invalid(string message) => new(ApiError.InvalidRequest(message));

    private static ErrorResult KeyNotFound(string id) =>
        new(ApiError.From(ApiErrorKind.NotFound, $"No key with id '{(id.Length > 40 ? id[..40] : id)}'."));

    private static IResult Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, int status = StatusCodes.Status200OK) =>
        Results.Json(value, typeInfo, statusCode: status);

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

        [LoggerMessage(EventId = 5005, Level = LogLevel.Error,
            Message = "Gateway:AdminKey holds an unresolved Key Vault reference; the admin API is off until the secret can be read")]
        public static partial void UnresolvedAdminKey(ILogger logger);

        [LoggerMessage(EventId = 5004, Level = LogLevel.Error, Message = "Admin call failed: storage unavailable")]
        public static partial void StorageUnavailable(ILogger logger, Exception exception);
    }
}
