namespace Qhaigc.Functions.Protocol;

/// <summary>Every way the gateway itself can fail a call; <see cref="ApiError"/> maps each to one status and type.</summary>
public enum ApiErrorKind
{
    InvalidRequest,
    Authentication,
    Billing,
    Permission,
    NotFound,
    RequestTooLarge,
    RateLimited,
    Internal,
    Overloaded,

    /// <summary>The upstream could not be reached, reset the connection or timed out before answering.</summary>
    UpstreamUnavailable,

    /// <summary>Table Storage could not be reached while a key had to be looked up.</summary>
    StorageUnavailable,
}
