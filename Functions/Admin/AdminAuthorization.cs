using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Admin;

/// <summary>
/// The one step every <c>/manage</c> call goes through before its resource's code (see docs/admin-api.md):
/// <c>Authorization: Bearer &lt;Gateway:AdminKey&gt;</c> (or <c>x-api-key</c>), 404 as if the API did not exist when no
/// admin key is configured, failed attempts logged and slowed per client (<see cref="AdminFailureThrottle"/>), 405 with
/// <c>Allow</c> for a method the route does not serve, and storage that cannot be reached answered as Claude's
/// retryable overload. Every answer carries <c>Cache-Control: no-store</c>: some carry a new secret, and none is a
/// page any cache should keep.
/// </summary>
/// <remarks>
/// The API lives under <c>/manage</c> because the Functions host reserves routes that start with <c>admin</c>.
/// </remarks>
public sealed partial class AdminAuthorization(
    TimeProvider time, IOptions<GatewayOptions> options, AdminFailureThrottle throttle, ILogger<AdminAuthorization> logger)
{
    private readonly byte[]? _adminKeyHash = HashAdminKey(options.Value.AdminKey, logger);

    /// <summary>
    /// Checks the caller, then runs what <paramref name="dispatch"/> picks for the request's method (given in its
    /// canonical upper-case form); a null pick is a method the route does not serve, answered 405 with
    /// <paramref name="allow"/> (such as <c>GET, POST</c>) as the <c>Allow</c> header.
    /// </summary>
    public async Task<IResult> RunAsync(HttpContext context, string allow, Func<string, Task<IResult>?> dispatch)
    {
        GatewayContext.Of(context, time);
        context.Response.Headers.CacheControl = "no-store";
        if (_adminKeyHash is null)
        {
            return new ErrorResult(ApiError.From(ApiErrorKind.NotFound, "Not found"));
        }

        var client = AdminFailureThrottle.ClientOf(context);
        if (throttle.Blocked(client) is { } wait)
        {
            Log.Throttled(logger, client);
            return new ErrorResult(ApiError.From(ApiErrorKind.RateLimited, "Too many failed admin attempts from this client; retry later.") with
            {
                RetryAfterSeconds = Math.Max(1, Math.Ceiling(wait.TotalSeconds)),
            });
        }

        if (!IsAdmin(context.Request))
        {
            // The presented value is never logged: it may be the admin key with a typo, or another secret.
            Log.AdminKeyRejected(logger, client, throttle.Failed(client));
            return new ErrorResult(ApiError.From(ApiErrorKind.Authentication, "invalid admin key"));
        }

        throttle.Succeeded(client);

        try
        {
            var method = HttpMethods.GetCanonicalizedValue(context.Request.Method);
            if (dispatch(method) is not { } action)
            {
                return MethodNotAllowed(context, method, allow);
            }

            return await action;
        }
        catch (Exception exception) when (StorageErrors.IsUnavailable(exception, context.RequestAborted))
        {
            Log.StorageUnavailable(logger, exception);
            return new ErrorResult(ApiError.From(ApiErrorKind.StorageUnavailable, "Storage is temporarily unavailable; please retry."));
        }
    }

    /// <summary>
    /// A key for <paramref name="purpose"/> that every instance derives alike and no client can: a MAC over the admin
    /// key's digest, so a value the API hands out (a usage cursor) can be checked when it comes back.
    /// </summary>
    public byte[] DeriveKey(string purpose) => HMACSHA256.HashData(_adminKeyHash ?? [], Encoding.UTF8.GetBytes(purpose));

    private static ErrorResult MethodNotAllowed(HttpContext context, string method, string allow)
    {
        context.Response.Headers.Allow = allow;
        var shown = method.Length > 20 ? method[..20] : method;
        return new ErrorResult(new ApiError(StatusCodes.Status405MethodNotAllowed, ApiError.TypeForStatus(StatusCodes.Status405MethodNotAllowed),
            $"Method {shown} is not allowed on this route; it takes {allow}."));
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

    private static partial class Log
    {
        [LoggerMessage(EventId = 5005, Level = LogLevel.Error,
            Message = "Gateway:AdminKey holds an unresolved Key Vault reference; the admin API is off until the secret can be read")]
        public static partial void UnresolvedAdminKey(ILogger logger);

        [LoggerMessage(EventId = 5004, Level = LogLevel.Error, Message = "Admin call failed: storage unavailable")]
        public static partial void StorageUnavailable(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 5007, Level = LogLevel.Warning,
            Message = "Admin call refused: no valid admin key from client {Client} ({Failures} failed attempts in the current window)")]
        public static partial void AdminKeyRejected(ILogger logger, string client, int failures);

        [LoggerMessage(EventId = 5008, Level = LogLevel.Warning, Message = "Admin call refused: client {Client} has too many failed attempts")]
        public static partial void Throttled(ILogger logger, string client);
    }
}
