namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>
/// A metric point as exported: a counter's or gauge's value, or a histogram's sum and count (cumulative, as both
/// exporters send them).
/// </summary>
public sealed record CapturedMetricPoint(string Name, IReadOnlyDictionary<string, object?> Attributes, double Value, long Count)
{
    public string? Text(string attribute) => Captured.Text(Attributes.GetValueOrDefault(attribute));
}
