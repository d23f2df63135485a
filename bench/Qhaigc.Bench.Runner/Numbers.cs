namespace Qhaigc.Bench.Runner;

/// <summary>Named measurements of one run (what wrk's script printed, or what the runner computed).</summary>
public sealed class Numbers : Dictionary<string, double>
{
    public Numbers()
        : base(StringComparer.Ordinal)
    {
    }

    public double Get(string name) => TryGetValue(name, out var value) ? value : double.NaN;
}
