using System.Diagnostics;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>A span as a test gateway exported it, the same shape whether it came in memory or over OTLP.</summary>
public sealed record CapturedSpan(
    string Source,
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    ActivityKind Kind,
    bool IsError,
    IReadOnlyDictionary<string, object?> Attributes,
    IReadOnlyList<CapturedEvent> Events)
{
    public object? this[string attribute] => Attributes.GetValueOrDefault(attribute);

    /// <summary>An attribute as text (numbers in invariant form), or null.</summary>
    public string? Text(string attribute) => Captured.Text(this[attribute]);

    /// <summary>An integer attribute, or null.</summary>
    public long? Number(string attribute) => this[attribute] switch
    {
        long l => l,
        int i => i,
        double d => (long)d,
        string s when long.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };
}
