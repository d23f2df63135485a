using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// The operator's prices (<c>Gateway:Prices</c>). Each child section other than <c>Version</c>, <c>Currency</c> and
/// <c>UnpricedModels</c> is one entry: its name is the model name or glob it prices, unless it lists them in
/// <c>Models</c> (comma-separated globs; handy where setting names cannot hold <c>-</c> or <c>*</c>, as in Azure app
/// settings). <c>Input</c> and <c>Output</c> are required; cache prices default to Anthropic's multipliers of the input
/// price. When several entries match a model, the most specific pattern wins (an exact name, then more literal
/// characters), then the entry name, exactly as upstream routing does.
/// </summary>
public sealed class PriceTable
{
    private readonly Entry[] _entries;

    private PriceTable(Entry[] entries, string version, string currency, bool refusesUnpriced, IReadOnlyList<string> errors)
    {
        _entries = entries;
        Version = version;
        Currency = currency;
        RefusesUnpriced = refusesUnpriced;
        Errors = errors;
    }

    /// <summary>The version written into usage records: the <c>Version</c> setting, else a hash of the entries.</summary>
    public string Version { get; }

    public string Currency { get; }

    /// <summary>True when calls to a model without a price are refused (<c>UnpricedModels = refuse</c>).</summary>
    public bool RefusesUnpriced { get; }

    /// <summary>Problems found while reading the settings; start-up validation reports them and stops the host.</summary>
    public IReadOnlyList<string> Errors { get; }

    public int Count => _entries.Length;

    public static PriceTable Empty { get; } = new([], "none", "USD", refusesUnpriced: false, []);

    /// <summary>Reads <c>Gateway:Prices</c>; problems are collected in <see cref="Errors"/>, never thrown.</summary>
    public static PriceTable Read(IConfiguration pricesSection, PricesOptions options)
    {
        var errors = new List<string>();
        var entries = new List<Entry>();
        foreach (var child in pricesSection.GetChildren())
        {
            if (PricesOptions.SettingNames.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            var prefix = "Gateway:Prices:" + child.Key;
            var input = ReadPrice(child, "Input", prefix, errors, required: true);
            var output = ReadPrice(child, "Output", prefix, errors, required: true);
            var write5m = ReadPrice(child, "CacheWrite5m", prefix, errors, required: false);
            var write1h = ReadPrice(child, "CacheWrite1h", prefix, errors, required: false);
            var read = ReadPrice(child, "CacheRead", prefix, errors, required: false);
            foreach (var unknown in child.GetChildren().Select(static c => c.Key)
                         .Where(static k => k is not ("Input" or "Output" or "CacheWrite5m" or "CacheWrite1h" or "CacheRead" or "Models")))
            {
                errors.Add($"{prefix}:{unknown} is not a price (Input, Output, CacheWrite5m, CacheWrite1h, CacheRead, Models).");
            }

            var patterns = child["Models"] is { } models ? ModelPattern.Parse(models) : [child.Key];
            if (patterns.Length == 0)
            {
                errors.Add($"{prefix}:Models must name at least one model or glob.");
                continue;
            }

            if (input is null || output is null)
            {
                continue;
            }

            var price = new ModelPrice(
                input.Value,
                output.Value,
                write5m ?? input.Value * ModelPrice.CacheWrite5mFactor,
                write1h ?? input.Value * ModelPrice.CacheWrite1hFactor,
                read ?? input.Value * ModelPrice.CacheReadFactor);
            entries.Add(new Entry(child.Key, patterns, price));
        }

        var currency = (options.Currency ?? "").Trim().ToUpperInvariant();
        if (currency.Length != 3 || !currency.All(char.IsAsciiLetterUpper))
        {
            errors.Add("Gateway:Prices:Currency must be a three-letter ISO 4217 code, such as USD or EUR.");
        }

        var unpriced = (options.UnpricedModels ?? "").Trim().ToLowerInvariant();
        if (unpriced is not (PricesOptions.Allow or PricesOptions.Refuse))
        {
            errors.Add("Gateway:Prices:UnpricedModels must be allow or refuse.");
        }

        entries.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        var version = string.IsNullOrWhiteSpace(options.Version) ? Fingerprint(entries, currency) : options.Version.Trim();
        if (version.Length > 100)
        {
            errors.Add("Gateway:Prices:Version must have at most 100 characters.");
        }

        return new PriceTable([.. entries], version, currency, unpriced == PricesOptions.Refuse, errors);
    }

    /// <summary>The record with its cost (null when its model has no price), the currency and this table's version.</summary>
    public UsageRecord Price(UsageRecord record)
    {
        var price = Find(record.Model);
        return price is null
            ? record with { Cost = null, Currency = null, PriceVersion = Version }
            : record with
            {
                Cost = Money.FromMicros(price.CostMicros(BillableTokens.From(record))),
                Currency = Currency,
                PriceVersion = Version,
            };
    }

    /// <summary>The price of a (client) model name, or null when no entry matches.</summary>
    public ModelPrice? Find(string? model)
    {
        if (string.IsNullOrEmpty(model))
        {
            return null;
        }

        ModelPrice? best = null;
        var bestScore = -1;
        foreach (var entry in _entries)
        {
            foreach (var pattern in entry.Patterns)
            {
                if (!ModelPattern.IsMatch(pattern, model))
                {
                    continue;
                }

                var score = Specificity(pattern);
                if (score > bestScore)
                {
                    best = entry.Price;
                    bestScore = score;
                }
            }
        }

        return best;
    }

    private static int Specificity(string pattern)
    {
        var wildcards = pattern.Count(static c => c is '*' or '?');
        return wildcards == 0 ? int.MaxValue : pattern.Length - wildcards;
    }

    private static decimal? ReadPrice(IConfigurationSection entry, string name, string prefix, List<string> errors, bool required)
    {
        var text = entry[name];
        if (string.IsNullOrWhiteSpace(text))
        {
            if (required)
            {
                errors.Add($"{prefix}:{name} is required (a price per million tokens).");
            }

            return null;
        }

        if (!decimal.TryParse(text.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var price) || price > 1_000_000m)
        {
            errors.Add($"{prefix}:{name} must be a non-negative number (a price per million tokens, '.' as the decimal point).");
            return null;
        }

        return price;
    }

    private static string Fingerprint(List<Entry> entries, string currency)
    {
        var text = new StringBuilder(currency);
        foreach (var entry in entries)
        {
            var p = entry.Price;
            text.Append('\n').Append(entry.Name).Append('|').AppendJoin(',', entry.Patterns).Append('|')
                .Append(CultureInfo.InvariantCulture, $"{p.Input}|{p.Output}|{p.CacheWrite5m}|{p.CacheWrite1h}|{p.CacheRead}");
        }

        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..12];
    }

    private sealed record Entry(string Name, string[] Patterns, ModelPrice Price);
}
