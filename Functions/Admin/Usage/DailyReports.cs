using System.Globalization;
using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Admin.Usage;

/// <summary>
/// The daily usage report both the operator's and the customer's endpoints answer (docs/console.md#daily-usage): its
/// query read strictly (a parameter it does not know, a day that is not <c>yyyy-MM-dd</c>, more than 366 days: 400),
/// and its rows from the daily aggregates, one range query per key however many calls the key made.
/// </summary>
public sealed class DailyReports(IUsageStore usage, GovernanceService governance, TimeProvider time)
{
    public const int MaxDays = 366;

    /// <summary>Days shown when the query gives none: the last 30, today included.</summary>
    public const int DefaultDays = 30;

    private const int MaxModelLength = 256;

    /// <summary>
    /// Reads <c>from</c>, <c>to</c> (both <c>yyyy-MM-dd</c>, both included; by default the last 30 days), and, where
    /// <paramref name="filters"/> allows, <c>keyId</c> and <c>model</c>. Null and the 400 to answer for anything else.
    /// </summary>
    public DailyQuery? Read(IQueryCollection query, bool filters, out ErrorResult? error)
    {
        error = null;
        string[] known = filters ? ["from", "to", "keyId", "model"] : ["from", "to"];
        if (query.Keys.FirstOrDefault(k => !known.Contains(k, StringComparer.Ordinal)) is { } unknown)
        {
            error = AdminResults.Invalid($"{Clip(unknown)}: unknown query parameter (known: {string.Join(", ", known)})");
            return null;
        }

        if (query.Keys.FirstOrDefault(k => query[k].Count > 1) is { } repeated)
        {
            error = AdminResults.Invalid($"{repeated}: given more than once");
            return null;
        }

        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        if (!TryReadDay(query, "to", today, out var to, out error) ||
            !TryReadDay(query, "from", DateOnly.FromDayNumber(Math.Max(0, to.DayNumber + 1 - DefaultDays)), out var from, out error))
        {
            return null;
        }

        if (to == DateOnly.MaxValue)
        {
            error = AdminResults.Invalid("to: must be before 9999-12-31");
            return null;
        }

        if (from > to)
        {
            error = AdminResults.Invalid("from: must not be after to");
            return null;
        }

        if (to.DayNumber - from.DayNumber + 1 > MaxDays)
        {
            error = AdminResults.Invalid($"to: a range holds at most {MaxDays} days");
            return null;
        }

        string? keyId = null;
        if (query.TryGetValue("keyId", out var keyText))
        {
            keyId = keyText.ToString();
            if (ApiKeyHasher.PartitionFromId(keyId) is null)
            {
                error = AdminResults.Invalid("keyId: not a key id");
                return null;
            }
        }

        string? model = null;
        if (query.TryGetValue("model", out var modelText))
        {
            model = modelText.ToString();
            if (model.Length is 0 or > MaxModelLength)
            {
                error = AdminResults.Invalid($"model: Input should be a model name of 1 to {MaxModelLength} characters");
                return null;
            }
        }

        return new DailyQuery(from, to, keyId, model);
    }

    /// <summary>
    /// The report for <paramref name="keyId"/>, or with none for every key with records in the range (deleted keys
    /// included: their records stay).
    /// </summary>
    public async Task<DailyReport> BuildAsync(DailyQuery query, string? keyId, CancellationToken cancellationToken)
    {
        var end = query.To.AddDays(1);
        var keyIds = keyId is not null
            ? [keyId]
            : (await usage.KeyIdsAsync(Start(query.From), Start(end), cancellationToken)).Where(static id => ApiKeyHasher.PartitionFromId(id) is not null);
        var currency = governance.Prices.Currency;
        var sums = new Dictionary<(string Day, string KeyId, string Model, string Currency), DailyUsage>();
        foreach (var id in keyIds)
        {
            await foreach (var day in usage.DailyAsync(id, query.From, end, cancellationToken))
            {
                if (query.Model is not null && day.Model != query.Model)
                {
                    continue;
                }

                // Calls without a price count in the report's currency at no cost, next to the priced calls of their model.
                var key = (day.Day, id, day.Model, day.Currency.Length == 0 ? currency : day.Currency);
                if (!sums.TryGetValue(key, out var sum))
                {
                    sums.Add(key, sum = day.Empty() with { Currency = key.Item4 });
                }

                sum.Add(day);
            }
        }

        return new DailyReport
        {
            From = Day(query.From),
            To = Day(query.To),
            Currency = currency,
            Days = [.. sums.OrderBy(static r => r.Key.Day, StringComparer.Ordinal).ThenBy(static r => r.Key.KeyId, StringComparer.Ordinal)
                .ThenBy(static r => r.Key.Model, StringComparer.Ordinal).ThenBy(static r => r.Key.Currency, StringComparer.Ordinal)
                .Select(static r => DailyReportRow.From(r.Value))],
        };
    }

    private static bool TryReadDay(IQueryCollection query, string name, DateOnly fallback, out DateOnly day, out ErrorResult? error)
    {
        error = null;
        day = fallback;
        if (!query.TryGetValue(name, out var text))
        {
            return true;
        }

        if (DateOnly.TryParseExact(text.ToString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day))
        {
            return true;
        }

        error = AdminResults.Invalid($"{name}: Input should be a UTC day, such as 2026-11-30");
        return false;
    }

    private static DateTimeOffset Start(DateOnly day) => new(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Clip(string text) => text.Length > 40 ? text[..40] : text;
}
