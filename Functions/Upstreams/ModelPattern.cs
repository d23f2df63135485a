namespace Qhaigc.Functions.Upstreams;

/// <summary>Glob patterns over model names: <c>*</c> any run of characters, <c>?</c> one character, case-insensitive.</summary>
public static class ModelPattern
{
    /// <summary>Splits a comma-separated list, trimming blanks.</summary>
    public static string[] Parse(string? patterns) =>
        string.IsNullOrWhiteSpace(patterns)
            ? []
            : patterns.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static bool IsMatch(string pattern, string model) => IsMatch(pattern.AsSpan(), model.AsSpan());

    public static bool MatchesAny(IReadOnlyList<string> patterns, string model)
    {
        for (var i = 0; i < patterns.Count; i++)
        {
            if (IsMatch(patterns[i], model))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        // Iterative wildcard match with single backtrack point: linear for the patterns operators write.
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || char.ToLowerInvariant(pattern[p]) == char.ToLowerInvariant(text[t])))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
