namespace Qhaigc.Functions.Upstreams;

/// <summary>Why a deployment, or one model on it, takes no call now (docs/faults.md#health).</summary>
public enum UpstreamRestReason
{
    /// <summary>Available.</summary>
    None,

    /// <summary>Its circuit opened after repeated transport failures (every model).</summary>
    Unreachable,

    /// <summary>It refused the gateway's credentials (every model).</summary>
    CredentialsRefused,

    /// <summary>The model's circuit opened after repeated overload or server errors.</summary>
    Failing,

    /// <summary>The model answered <c>429</c> with a <c>retry-after</c>.</summary>
    RateLimited,

    /// <summary>The model's last answer said in <c>anthropic-ratelimit-*</c> headers that requests or tokens are used up until a reset.</summary>
    RateLimitUsedUp,
}
