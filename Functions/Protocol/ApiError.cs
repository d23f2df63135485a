namespace Qhaigc.Functions.Protocol;

/// <summary>An error as the client sees it: HTTP status, Claude <c>error.type</c> and message (docs/wire-contract.md#4-errors).</summary>
public sealed record ApiError(int Status, string Type, string Message)
{
    /// <summary>Seconds the client should wait before it retries, when known.</summary>
    public double? RetryAfterSeconds { get; init; }

    /// <summary>Anthropic's SDKs obey <c>x-should-retry</c> before they look at the status (docs/wire-contract.md#123-x-should-retry-and-the-sdks-retry-rule).</summary>
    public bool ShouldRetry => Status is 408 or 409 or 429 or >= 500;

    public static ApiError From(ApiErrorKind kind, string message) => kind switch
    {
        ApiErrorKind.InvalidRequest => new(400, ErrorTypes.InvalidRequest, message),
        ApiErrorKind.Authentication => new(401, ErrorTypes.Authentication, message),
        ApiErrorKind.Billing => new(402, ErrorTypes.Billing, message),
        ApiErrorKind.Permission => new(403, ErrorTypes.Permission, message),
        ApiErrorKind.NotFound => new(404, ErrorTypes.NotFound, message),
        ApiErrorKind.RequestTooLarge => new(413, ErrorTypes.RequestTooLarge, message),
        ApiErrorKind.RateLimited => new(429, ErrorTypes.RateLimit, message),
        ApiErrorKind.Internal => new(500, ErrorTypes.Api, message),
        ApiErrorKind.Overloaded or ApiErrorKind.UpstreamUnavailable or ApiErrorKind.StorageUnavailable =>
            new(529, ErrorTypes.Overloaded, message),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static ApiError InvalidRequest(string message) => From(ApiErrorKind.InvalidRequest, message);

    /// <summary>The error an SSE <c>error</c> event carries, its status following from its type.</summary>
    public static ApiError FromErrorEvent(ReadOnlySpan<byte> data)
    {
        ErrorEnvelope.TryRead(data, out var type, out var message);
        type ??= ErrorTypes.Api;
        return new ApiError(StatusForType(type), type, message ?? "The upstream failed.");
    }

    /// <summary>The Claude error type Anthropic uses for a status, for upstream answers that carry no body we can read.</summary>
    public static string TypeForStatus(int status) => status switch
    {
        400 => ErrorTypes.InvalidRequest,
        401 => ErrorTypes.Authentication,
        402 => ErrorTypes.Billing,
        403 => ErrorTypes.Permission,
        404 => ErrorTypes.NotFound,
        413 => ErrorTypes.RequestTooLarge,
        429 => ErrorTypes.RateLimit,
        529 => ErrorTypes.Overloaded,
        503 => ErrorTypes.Overloaded,
        504 => ErrorTypes.Timeout,
        >= 500 => ErrorTypes.Api,
        _ => ErrorTypes.InvalidRequest,
    };

    /// <summary>The status Anthropic uses for an error type, for errors that arrive as SSE events.</summary>
    public static int StatusForType(string? type) => type switch
    {
        ErrorTypes.InvalidRequest => 400,
        ErrorTypes.Authentication => 401,
        ErrorTypes.Billing => 402,
        ErrorTypes.Permission => 403,
        ErrorTypes.NotFound => 404,
        ErrorTypes.RequestTooLarge => 413,
        ErrorTypes.RateLimit => 429,
        ErrorTypes.Overloaded => 529,
        ErrorTypes.Timeout => 504,
        _ => 500,
    };
}

/// <summary>Anthropic's <c>error.type</c> strings.</summary>
public static class ErrorTypes
{
    public const string InvalidRequest = "invalid_request_error";
    public const string Authentication = "authentication_error";
    public const string Billing = "billing_error";
    public const string Permission = "permission_error";
    public const string NotFound = "not_found_error";
    public const string RequestTooLarge = "request_too_large";
    public const string RateLimit = "rate_limit_error";
    public const string Api = "api_error";
    public const string Overloaded = "overloaded_error";
    public const string Timeout = "timeout_error";
}
