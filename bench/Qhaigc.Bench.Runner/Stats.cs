namespace Qhaigc.Bench.Runner;

public static class Stats
{
    /// <summary>Nearest-rank percentile (the same rule as wrk's script).</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double percentile)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }

    public static double Median(IReadOnlyCollection<double> values) => Percentile(values, 50);
}
