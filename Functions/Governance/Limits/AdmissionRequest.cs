namespace Qhaigc.Functions.Governance;

/// <summary>One call asking to be admitted under its key's limits.</summary>
public sealed record AdmissionRequest
{
    public required string KeyId { get; init; }

    public required string RequestId { get; init; }

    public required KeyLimits Limits { get; init; }

    public required CallEstimate Estimate { get; init; }

    public required DateTimeOffset Now { get; init; }

    /// <summary>When the key was created: the start of a lifetime spend period.</summary>
    public required DateTimeOffset KeyCreatedAt { get; init; }

    public required TimeSpan LeaseDuration { get; init; }
}
