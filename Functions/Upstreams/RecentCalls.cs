namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// Attempts and failures over the last five minutes on this instance, in ten-second buckets, for
/// <c>GET /manage/upstreams</c> (docs/admin-api.md#upstreams).
/// </summary>
public sealed class RecentCalls(TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    private const int Buckets = 30;
    private static readonly long BucketTicks = Window.Ticks / Buckets;

    private readonly Lock _lock = new();
    private readonly long[] _epochs = new long[Buckets];
    private readonly int[] _calls = new int[Buckets];
    private readonly int[] _failures = new int[Buckets];

    public void Add(bool failed)
    {
        var epoch = time.GetUtcNow().UtcTicks / BucketTicks;
        var slot = (int)(epoch % Buckets);
        lock (_lock)
        {
            if (_epochs[slot] != epoch)
            {
                _epochs[slot] = epoch;
                _calls[slot] = 0;
                _failures[slot] = 0;
            }

            _calls[slot]++;
            if (failed)
            {
                _failures[slot]++;
            }
        }
    }

    /// <summary>Attempts and failures in the buckets of the last five minutes.</summary>
    public (int Calls, int Failures) Count()
    {
        var oldest = time.GetUtcNow().UtcTicks / BucketTicks - Buckets + 1;
        var (calls, failures) = (0, 0);
        lock (_lock)
        {
            for (var i = 0; i < Buckets; i++)
            {
                if (_epochs[i] >= oldest)
                {
                    calls += _calls[i];
                    failures += _failures[i];
                }
            }
        }

        return (calls, failures);
    }
}
