namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>A span event as exported.</summary>
public sealed record CapturedEvent(string Name, IReadOnlyDictionary<string, object?> Attributes);
