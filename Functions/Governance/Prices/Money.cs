namespace Qhaigc.Functions.Governance;

/// <summary>
/// Amounts of the operator's currency are kept as whole micro-units (a millionth of the unit): limit counters and
/// usage records add integers, never floating-point numbers, so sums do not drift. A call's cost is rounded once, to
/// the nearest micro-unit (halves away from zero); a worst-case reservation is rounded up.
/// </summary>
public static class Money
{
    public const decimal MicrosPerUnit = 1_000_000m;

    public static decimal FromMicros(long micros) => micros / MicrosPerUnit;

    /// <summary>Micro-units of an amount, rounded to the nearest (halves away from zero); saturates instead of overflowing.</summary>
    public static long ToMicros(decimal amount) => Saturate(decimal.Round(amount * MicrosPerUnit, MidpointRounding.AwayFromZero));

    /// <summary>Rounds an exact micro-unit amount to the nearest whole micro-unit.</summary>
    public static long RoundMicros(decimal micros) => Saturate(decimal.Round(micros, MidpointRounding.AwayFromZero));

    /// <summary>Rounds an exact micro-unit amount up, for reservations that must never be smaller than the cost.</summary>
    public static long CeilingMicros(decimal micros) => Saturate(decimal.Ceiling(micros));

    private static long Saturate(decimal value) => value >= long.MaxValue ? long.MaxValue : value <= long.MinValue ? long.MinValue : (long)value;
}
