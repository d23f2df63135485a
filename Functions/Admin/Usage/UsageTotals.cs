using System.Globalization;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Admin.Usage;

/// <summary>Sums usage records per key, UTC day and model, for the totals of <c>GET /manage/usage</c>.</summary>
public sealed class UsageTotals
{
    private readonly Dictionary<(string KeyId, string Day, string Model), UsageTotal> _totals = [];

    public void Add(IEnumerable<UsageRecord> records)
    {
        foreach (var record in records)
        {
            var day = record.StartedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var model = record.Model ?? "";
            if (!_totals.TryGetValue((record.KeyId, day, model), out var total))
            {
                total = new UsageTotal { KeyId = record.KeyId, Day = day, Model = model };
                _totals.Add((record.KeyId, day, model), total);
            }

            total.Calls++;
            total.InputTokens += record.InputTokens;
            total.OutputTokens += record.OutputTokens;
            total.CacheCreationInputTokens += record.CacheCreationInputTokens;
            total.CacheReadInputTokens += record.CacheReadInputTokens;
            total.EstimatedCalls += record.Estimated ? 1 : 0;
        }
    }

    /// <summary>The totals ordered by key, day and model.</summary>
    public UsageTotal[] ToArray() =>
        _totals.Values.OrderBy(static t => t.KeyId, StringComparer.Ordinal).ThenBy(static t => t.Day, StringComparer.Ordinal)
            .ThenBy(static t => t.Model, StringComparer.Ordinal).ToArray();
}
