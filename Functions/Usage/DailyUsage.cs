using System.Globalization;
using Qhaigc.Functions.Governance;

namespace Qhaigc.Functions.Usage;

/// <summary>
/// The usage of one key on one UTC day with one model and currency: what its usage records add up to, by the same
/// rules as a statement line (<see cref="StatementBuilder"/>, <see cref="BillableTokens"/>), so the two always agree
/// (docs/console.md#daily-aggregates).
/// </summary>
public sealed record DailyUsage
{
    public required string KeyId { get; init; }

    /// <summary>The UTC day, <c>yyyy-MM-dd</c>.</summary>
    public required string Day { get; init; }

    /// <summary>The client's model name (empty when the call named none).</summary>
    public required string Model { get; init; }

    /// <summary>The currency of <see cref="CostMicros"/>; empty for calls without a price.</summary>
    public required string Currency { get; init; }

    public long Calls { get; set; }

    /// <summary>Calls answered with a status of 400 or more, or that ended <c>failed</c> or <c>truncated</c>.</summary>
    public long Errors { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public long CacheWrite5mTokens { get; set; }

    public long CacheWrite1hTokens { get; set; }

    public long CacheReadTokens { get; set; }

    public long WebSearchRequests { get; set; }

    public long WebFetchRequests { get; set; }

    public long CostMicros { get; set; }

    public long UnpricedCalls { get; set; }

    public long EstimatedCalls { get; set; }

    /// <summary>The UTC day of a time, as aggregates and statements name it.</summary>
    public static string DayOf(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>What one record adds to its day's aggregate.</summary>
    public static DailyUsage Of(UsageRecord record)
    {
        var priced = record.Cost is not null;
        var tokens = BillableTokens.From(record);
        return new DailyUsage
        {
            KeyId = record.KeyId,
            Day = DayOf(record.StartedAt),
            Model = record.Model ?? "",
            Currency = priced ? record.Currency ?? "" : "",
            Calls = 1,
            Errors = record.Status >= 400 || record.State is UsageState.Failed or UsageState.Truncated ? 1 : 0,
            InputTokens = tokens.Input,
            OutputTokens = tokens.Output,
            CacheWrite5mTokens = tokens.CacheWrite5m,
            CacheWrite1hTokens = tokens.CacheWrite1h,
            CacheReadTokens = tokens.CacheRead,
            WebSearchRequests = tokens.WebSearches,
            WebFetchRequests = tokens.WebFetches,
            CostMicros = priced ? Money.ToMicros(record.Cost!.Value) : 0,
            UnpricedCalls = priced ? 0 : 1,
            EstimatedCalls = record.Estimated ? 1 : 0,
        };
    }

    /// <summary>Adds <paramref name="other"/> times <paramref name="sign"/> (1 to add a record, -1 to take one back).</summary>
    public void Add(DailyUsage other, int sign = 1)
    {
        Calls += sign * other.Calls;
        Errors += sign * other.Errors;
        InputTokens += sign * other.InputTokens;
        OutputTokens += sign * other.OutputTokens;
        CacheWrite5mTokens += sign * other.CacheWrite5mTokens;
        CacheWrite1hTokens += sign * other.CacheWrite1hTokens;
        CacheReadTokens += sign * other.CacheReadTokens;
        WebSearchRequests += sign * other.WebSearchRequests;
        WebFetchRequests += sign * other.WebFetchRequests;
        CostMicros += sign * other.CostMicros;
        UnpricedCalls += sign * other.UnpricedCalls;
        EstimatedCalls += sign * other.EstimatedCalls;
    }

    /// <summary>An empty aggregate of the same key, day, model and currency.</summary>
    public DailyUsage Empty() => new() { KeyId = KeyId, Day = Day, Model = Model, Currency = Currency };

    /// <summary>Sums records per (day, model, currency), in that order: what the aggregates of one key hold.</summary>
    public static List<DailyUsage> Sum(IEnumerable<UsageRecord> records)
    {
        var sums = new Dictionary<(string, string, string, string), DailyUsage>();
        foreach (var record in records)
        {
            var one = Of(record);
            var key = (one.KeyId, one.Day, one.Model, one.Currency);
            if (!sums.TryGetValue(key, out var sum))
            {
                sums.Add(key, sum = one.Empty());
            }

            sum.Add(one);
        }

        return [.. sums.Values.OrderBy(static d => d.KeyId, StringComparer.Ordinal).ThenBy(static d => d.Day, StringComparer.Ordinal)
            .ThenBy(static d => d.Model, StringComparer.Ordinal).ThenBy(static d => d.Currency, StringComparer.Ordinal)];
    }
}
