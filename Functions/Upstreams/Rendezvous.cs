namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// Weighted rendezvous (highest random weight) hashing: each pool member scores <c>weight / -ln(u)</c>, with
/// <c>u</c> in (0, 1) drawn from a hash of the affinity key and the member's name, and members are tried from the
/// highest score down. Every instance computes the same order without sharing anything; a member's share of keys is
/// its weight over the pool's; adding or removing a member moves only the keys it wins or loses. See
/// https://en.wikipedia.org/wiki/Rendezvous_hashing and docs/configuration.md#pools-and-affinity.
/// </summary>
public static class Rendezvous
{
    /// <summary>A stable 64-bit hash of a string (FNV-1a over its UTF-16 code units), the same on every instance and run.</summary>
    public static ulong Hash(string value)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in value)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }

    /// <summary>The score of a member (by the hash of its name) for a key (by its hash); higher is tried first.</summary>
    public static double Score(ulong keyHash, ulong memberHash, int weight) => ScoreOf(Mix(keyHash ^ Mix(memberHash)), weight);

    /// <summary>The score of a member for a weighted random draw (no affinity): the same law, from a random number.</summary>
    public static double RandomScore(int weight) => ScoreOf((ulong)Random.Shared.NextInt64() << 1, weight);

    private static double ScoreOf(ulong bits, int weight)
    {
        // The top 53 bits as a double strictly inside (0, 1), so the logarithm is finite and negative.
        var unit = ((bits >> 11) + 0.5) / (1UL << 53);
        return weight / -Math.Log(unit);
    }

    /// <summary>SplitMix64's finalizer: every input bit moves every output bit.</summary>
    private static ulong Mix(ulong value)
    {
        value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9UL;
        value = (value ^ (value >> 27)) * 0x94D049BB133111EBUL;
        return value ^ (value >> 31);
    }
}
