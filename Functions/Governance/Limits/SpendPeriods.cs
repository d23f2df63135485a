using System.Globalization;

namespace Qhaigc.Functions.Governance;

/// <summary>Names and bounds of spend periods. Months are UTC calendar months.</summary>
public static class SpendPeriods
{
    public const string LifetimeKey = "lifetime";

    /// <summary>The counter's name for the period that contains <paramref name="now"/>: <c>2026-11</c> or <c>lifetime</c>.</summary>
    public static string Key(SpendPeriod period, DateTimeOffset now) =>
        period == SpendPeriod.Lifetime ? LifetimeKey : now.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary>When the period that contains <paramref name="now"/> started (the key's creation time for lifetime).</summary>
    public static DateTimeOffset Start(SpendPeriod period, DateTimeOffset now, DateTimeOffset keyCreatedAt)
    {
        if (period == SpendPeriod.Lifetime)
        {
            return keyCreatedAt.ToUniversalTime();
        }

        var utc = now.UtcDateTime;
        return new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
    }

    /// <summary>When the period that contains <paramref name="now"/> ends; null for lifetime.</summary>
    public static DateTimeOffset? End(SpendPeriod period, DateTimeOffset now) =>
        period == SpendPeriod.Lifetime ? null : Start(period, now, now).AddMonths(1);
}
