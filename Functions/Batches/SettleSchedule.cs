using System.Globalization;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// A six-field NCRONTAB expression (second minute hour day month day-of-week), the format of the Functions timer
/// trigger (https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#ncrontab-expressions): each field
/// <c>*</c>, a number, a range <c>a-b</c>, a step <c>*/n</c> or <c>a-b/n</c>, or a comma-separated list of those.
/// Times are UTC. A day must match both its day of the month and its day of the week.
/// </summary>
public sealed class SettleSchedule
{
    private static readonly (int Min, int Max)[] Ranges = [(0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
    private static readonly string[] FieldNames = ["second", "minute", "hour", "day", "month", "day-of-week"];

    private readonly bool[][] _fields;

    private SettleSchedule(bool[][] fields) => _fields = fields;

    /// <summary>Reads an expression; null, with the reason, when it is not one this schedule can run.</summary>
    public static SettleSchedule? Parse(string? text, out string? error)
    {
        error = null;
        var parts = (text ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 6)
        {
            error = "must have six fields (second minute hour day month day-of-week), e.g. '0 * * * * *' for every minute";
            return null;
        }

        var fields = new bool[6][];
        for (var i = 0; i < 6; i++)
        {
            fields[i] = new bool[Ranges[i].Max + 1];
            foreach (var item in parts[i].Split(','))
            {
                if (!Mark(fields[i], item, Ranges[i]))
                {
                    error = $"has a {FieldNames[i]} field '{parts[i]}' that is not *, a number from {Ranges[i].Min} to {Ranges[i].Max}, a range or a step";
                    return null;
                }
            }
        }

        // Sunday is 0 or 7.
        fields[5][0] |= fields[5][7];
        return new SettleSchedule(fields);
    }

    /// <summary>The first time strictly after <paramref name="after"/> that the schedule names, within five years; else null.</summary>
    public DateTimeOffset? Next(DateTimeOffset after)
    {
        var from = after.UtcDateTime;
        from = new DateTime(from.Ticks - (from.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc).AddSeconds(1);
        for (var day = from.Date; day < from.Date.AddYears(5); day = day.AddDays(1))
        {
            if (!_fields[4][day.Month] || !_fields[3][day.Day] || !_fields[5][(int)day.DayOfWeek])
            {
                continue;
            }

            for (var hour = 0; hour < 24; hour++)
            {
                for (var minute = 0; _fields[2][hour] && minute < 60; minute++)
                {
                    for (var second = 0; _fields[1][minute] && second < 60; second++)
                    {
                        var time = day.AddHours(hour).AddMinutes(minute).AddSeconds(second);
                        if (_fields[0][second] && time >= from)
                        {
                            return new DateTimeOffset(time);
                        }
                    }
                }
            }
        }

        return null;
    }

    private static bool Mark(bool[] field, string item, (int Min, int Max) range)
    {
        var step = 1;
        var slash = item.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            if (!int.TryParse(item.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1)
            {
                return false;
            }

            item = item[..slash];
        }

        int low, high;
        if (item == "*")
        {
            (low, high) = range;
        }
        else if (item.Split('-') is [var first, var last])
        {
            if (!Number(first, range, out low) || !Number(last, range, out high) || high < low)
            {
                return false;
            }
        }
        else if (Number(item, range, out low))
        {
            high = slash >= 0 ? range.Max : low;
        }
        else
        {
            return false;
        }

        for (var value = low; value <= high; value += step)
        {
            field[value] = true;
        }

        return true;
    }

    private static bool Number(string text, (int Min, int Max) range, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= range.Min && value <= range.Max;
}
