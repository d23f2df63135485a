namespace Qhaigc.Functions.Upstreams;

/// <summary>One model as an upstream describes it; what it does not say stays null.</summary>
public sealed record UpstreamModelInfo(
    string Id,
    string? DisplayName = null,
    DateTimeOffset? CreatedAt = null,
    long? MaxInputTokens = null,
    long? MaxTokens = null);
