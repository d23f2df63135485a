namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>A log record as exported: its trace id (null outside a span) and all its text.</summary>
public sealed record CapturedLog(string? TraceId, string Category, string Text);
