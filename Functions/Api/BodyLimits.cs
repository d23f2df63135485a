namespace Qhaigc.Functions.Api;

/// <summary>The bounds of a request body: its size, and how long it may stall (<c>Gateway:MaxRequestBodyBytes</c>,
/// <c>Gateway:RequestBodyStallTimeout</c>; docs/configuration.md).</summary>
public readonly record struct BodyLimits(long MaxBytes, TimeSpan StallTimeout);
