namespace Qhaigc.Functions.Hosting;

/// <summary>The values of <c>Gateway:Limits:UnmeasuredInput</c> (docs/configuration.md).</summary>
public static class UnmeasuredInputModes
{
    /// <summary>Reserve the model's context window for input the gateway cannot measure.</summary>
    public const string ReserveWorstCase = "reserve-worst-case";

    /// <summary>Ask the upstream's <c>count_tokens</c> first; the worst case when it cannot answer.</summary>
    public const string CountFirst = "count-first";

    public static bool IsCountFirst(string? mode) => string.Equals(mode?.Trim(), CountFirst, StringComparison.OrdinalIgnoreCase);

    public static bool IsKnown(string? mode) =>
        IsCountFirst(mode) || string.Equals(mode?.Trim(), ReserveWorstCase, StringComparison.OrdinalIgnoreCase);
}
