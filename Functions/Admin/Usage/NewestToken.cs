using System.Globalization;

namespace Qhaigc.Functions.Admin.Usage;

/// <summary>
/// Where a newest-first page of <c>GET /manage/usage</c> ended, inside its (signed) cursor: the start time of the last
/// record given, in UTC ticks, and the request ids given at that very time.
/// </summary>
public static class NewestToken
{
    public static string Write(DateTimeOffset at, IEnumerable<string> ids) =>
        at.UtcTicks.ToString(CultureInfo.InvariantCulture) + ":" + string.Join(',', ids.Distinct(StringComparer.Ordinal));

    /// <summary>The time and ids a token holds; <paramref name="end"/> and none for a token that is not one.</summary>
    public static (DateTimeOffset Before, HashSet<string> Given) Read(string? token, DateTimeOffset end)
    {
        var colon = token?.IndexOf(':') ?? -1;
        if (colon < 0 || !long.TryParse(token.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ||
            ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return (end, new HashSet<string>(StringComparer.Ordinal));
        }

        return (new DateTimeOffset(ticks, TimeSpan.Zero),
            token![(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal));
    }
}
