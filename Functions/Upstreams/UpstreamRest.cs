namespace Qhaigc.Functions.Upstreams;

/// <summary>Why an upstream takes no call now, and for how much longer.</summary>
public readonly record struct UpstreamRest(UpstreamRestReason Reason, TimeSpan For);
