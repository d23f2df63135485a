namespace Qhaigc.Bench.Runner.Scale;

/// <summary>
/// Event lateness (ms) from every stream at once, in 0.1 ms buckets up to a minute (beyond: the last bucket); adding is
/// one interlocked increment, so thousands of streams can record without a lock or a list of millions.
/// </summary>
public sealed class LatenessHistogram
{
    private const double BucketMs = 0.1;
    private readonly long[] _buckets = new long[600_000];
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public void Add(double milliseconds)
    {
        var bucket = (int)Math.Min(milliseconds / BucketMs, _buckets.Length - 1);
        Interlocked.Increment(ref _buckets[bucket]);
        Interlocked.Increment(ref _count);
    }

    /// <summary>The upper edge of the bucket holding the nearest-rank percentile.</summary>
    public double Percentile(double percentile)
    {
        var count = Count;
        if (count == 0)
        {
            return double.NaN;
        }

        var rank = (long)Math.Ceiling(percentile / 100 * count);
        long seen = 0;
        for (var i = 0; i < _buckets.Length; i++)
        {
            seen += Interlocked.Read(ref _buckets[i]);
            if (seen >= rank)
            {
                return (i + 1) * BucketMs;
            }
        }

        return _buckets.Length * BucketMs;
    }
}
