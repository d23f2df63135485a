using System.Globalization;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// Sums usage records into a statement. Costs are added as integer micro-units, exactly as the records hold them, so
/// a statement equals the sum of its records to the last micro-unit, whatever the number of records.
/// </summary>
public sealed class StatementBuilder(string keyId, DateTimeOffset from, DateTimeOffset to)
{
    private readonly Dictionary<(string Day, string Model, string Currency), Sum> _lines = [];
    private readonly SortedSet<string> _versions = new(StringComparer.Ordinal);

    public static async Task<Statement> BuildAsync(
        IUsageStore usage, string keyId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var builder = new StatementBuilder(keyId, from, to);
        await foreach (var record in usage.QueryAsync(keyId, from, to, cancellationToken))
        {
            builder.Add(record);
        }

        return builder.Build();
    }

    public void Add(UsageRecord record)
    {
        var day = record.StartedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var priced = record.Cost is not null;
        // A file operation has no model: its line is named by the operation (files.upload, …), apart from the models'.
        var line = record.Model ?? (Files.FilesHandler.Endpoints.IsFileOperation(record.Endpoint) ? record.Endpoint : "");
        var key = (day, line, priced ? record.Currency ?? "" : "");
        if (!_lines.TryGetValue(key, out var sum))
        {
            sum = new Sum();
            _lines.Add(key, sum);
        }

        var tokens = BillableTokens.From(record);
        sum.Calls++;
        sum.Input += tokens.Input;
        sum.Output += tokens.Output;
        sum.Write5m += tokens.CacheWrite5m;
        sum.Write1h += tokens.CacheWrite1h;
        sum.Read += tokens.CacheRead;
        sum.WebSearches += tokens.WebSearches;
        sum.WebFetches += tokens.WebFetches;
        sum.CostMicros += priced ? Money.ToMicros(record.Cost!.Value) : 0;
        sum.Unpriced += priced ? 0 : 1;
        sum.Estimated += record.Estimated ? 1 : 0;
        if (record.PriceVersion is { } version)
        {
            _versions.Add(version);
        }
    }

    public Statement Build()
    {
        var lines = _lines
            .OrderBy(static l => l.Key.Day, StringComparer.Ordinal)
            .ThenBy(static l => l.Key.Model, StringComparer.Ordinal)
            .ThenBy(static l => l.Key.Currency, StringComparer.Ordinal)
            .Select(static l => new StatementLine
            {
                Day = l.Key.Day,
                Model = l.Key.Model,
                Currency = l.Key.Currency.Length == 0 ? null : l.Key.Currency,
                Calls = l.Value.Calls,
                InputTokens = l.Value.Input,
                OutputTokens = l.Value.Output,
                CacheWrite5mTokens = l.Value.Write5m,
                CacheWrite1hTokens = l.Value.Write1h,
                CacheReadTokens = l.Value.Read,
                WebSearchRequests = l.Value.WebSearches,
                WebFetchRequests = l.Value.WebFetches,
                Cost = Money.FromMicros(l.Value.CostMicros),
                UnpricedCalls = l.Value.Unpriced,
                EstimatedCalls = l.Value.Estimated,
            })
            .ToArray();

        var costs = _lines.Where(static l => l.Key.Currency.Length > 0)
            .GroupBy(static l => l.Key.Currency, StringComparer.Ordinal)
            .OrderBy(static g => g.Key, StringComparer.Ordinal)
            .ToDictionary(static g => g.Key, static g => Money.FromMicros(g.Sum(static l => l.Value.CostMicros)), StringComparer.Ordinal);
        var all = _lines.Values;
        return new Statement
        {
            KeyId = keyId,
            From = from,
            To = to,
            PriceVersions = [.. _versions],
            Lines = lines,
            Totals = new StatementTotals
            {
                Calls = all.Sum(static s => s.Calls),
                InputTokens = all.Sum(static s => s.Input),
                OutputTokens = all.Sum(static s => s.Output),
                CacheWrite5mTokens = all.Sum(static s => s.Write5m),
                CacheWrite1hTokens = all.Sum(static s => s.Write1h),
                CacheReadTokens = all.Sum(static s => s.Read),
                WebSearchRequests = all.Sum(static s => s.WebSearches),
                WebFetchRequests = all.Sum(static s => s.WebFetches),
                Cost = costs,
                UnpricedCalls = all.Sum(static s => s.Unpriced),
                EstimatedCalls = all.Sum(static s => s.Estimated),
            },
        };
    }

    private sealed class Sum
    {
        public long Calls { get; set; }

        public long Input { get; set; }

        public long Output { get; set; }

        public long Write5m { get; set; }

        public long Write1h { get; set; }

        public long Read { get; set; }

        public long WebSearches { get; set; }

        public long WebFetches { get; set; }

        public long CostMicros { get; set; }

        public long Unpriced { get; set; }

        public long Estimated { get; set; }
    }
}
