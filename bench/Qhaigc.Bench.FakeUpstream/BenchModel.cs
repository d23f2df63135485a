using System.Globalization;

namespace Qhaigc.Bench.FakeUpstream;

/// <summary>
/// What one request asks of the fake, read from its model name so that the gateway passes it on unchanged:
/// <c>bench</c> takes the defaults; <c>bench-e20-g25-d5</c> asks for 20 events, 25 ms between events and 5 ms before
/// the answer starts. The parts may come in any order and each may be left out.
/// </summary>
public readonly record struct BenchModel(int Events, int GapMs, int DelayMs)
{
    public const int MinEvents = 5;
    public const int MaxEvents = 100_000;

    public static BenchModel Parse(ReadOnlySpan<char> model, BenchModel defaults)
    {
        var result = defaults;
        foreach (var range in model.Split('-'))
        {
            var part = model[range];
            if (part.Length < 2 || !int.TryParse(part[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }

            result = part[0] switch
            {
                'e' => result with { Events = Math.Clamp(value, MinEvents, MaxEvents) },
                'g' => result with { GapMs = Math.Min(value, 60_000) },
                'd' => result with { DelayMs = Math.Min(value, 60_000) },
                _ => result,
            };
        }

        return result;
    }
}
