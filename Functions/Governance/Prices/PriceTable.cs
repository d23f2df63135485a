using System.Collections.Concurrent;
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
/// characters), then the entry name, exactly as upstream routing does. Models no entry of the operator's prices are
/// priced from the table the gateway ships (<see cref="AnthropicListPrices"/>) unless <c>Defaults</c> is <c>none</c>.
/// Prices follow the model the upstream serves (after <c>ModelMap</c>), so an alias costs what its model costs
/// (docs/limits-and-prices.md#prices).
/// </summary>
public sealed class PriceTable
{
    /// <summary>Model names whose price is remembered: enough for every model a gateway serves, bounded against arbitrary names.</summary>
    private const int MaxRemembered = 4096;

    private readonly Entry[] _entries;
    private readonly Entry[] _defaults;

    /// <summary>Prices found, by model name: a lookup matches globs of every entry, and calls repeat a few names.</summary>
    private readonly ConcurrentDictionary<string, ModelPrice?> _found = new(StringComparer.OrdinalIgnoreCase);

    private PriceTable(Entry[] entries, Entry[] defaults, string version, string currency, bool refusesUnpriced, long usesWithoutMax, IReadOnlyList<string> errors)
    {
        _entries = entries;
        _defaults = defaults;
        Version = version;
        Currency = currency;
        RefusesUnpriced = refusesUnpriced;
        ServerToolUsesWithoutMax = usesWithoutMax;
        Errors = errors;
    }

    /// <summary>The version written into usage records: the <c>Version</c> setting, else a hash of the entries.</summary>
    public string Version { get; }

    public string Currency { get; }

    /// <summary>True when calls to a model without a price are refused (<c>UnpricedModels = refuse</c>).</summary>
    public bool RefusesUnpriced { get; }

    /// <summary>Problems found while reading the settings; start-up validation reports them and stops the host.</summary>
    public IReadOnlyList<string> Errors { get; }

    /// <summary>Price entries in force: the operator's and the shipped defaults'. Zero means no model has a price.</summary>
    public int Count => _entries.Length + _defaults.Length;

    /// <summary>The operator's own entries (<c>Gateway:Prices:*</c>).</summary>
    public int OperatorCount => _entries.Length;

    /// <summary>The version of the shipped default table in force, or null when it is off (by setting, or for another currency).</summary>
    public string? DefaultsVersion { get; private init; }

    /// <summary>True when the default table was asked for but is off because the gateway's currency is not its currency.</summary>
    public bool DefaultsSkippedForCurrency { get; private init; }

    /// <summary>
    /// Uses reserved for a web search or fetch tool that sets no <c>max_uses</c> (<c>ServerToolUsesWithoutMax</c>); 0
    /// means a capped key may not send one.
    /// </summary>
    public long ServerToolUsesWithoutMax { get; }

    /// <summary>
    /// What a message batch's tokens cost as a fraction of their standard price, for entries that set no
    /// <c>BatchDiscount</c> of their own (<c>Gateway:Prices:BatchDiscount</c>, default Anthropic's 0.5).
    /// </summary>
    public decimal BatchDiscount { get; private init; } = PricesOptions.DefaultBatchDiscount;

    public static PriceTable Empty { get; } = new([], [], "none", "USD", refusesUnpriced: false, PricesOptions.DefaultServerToolUsesWithoutMax, []);

    /// <summary>
    /// Reads <c>Gateway:Prices</c>; problems are collected in <see cref="Errors"/>, never thrown. Without
    /// <paramref name="withDefaults"/> the shipped default table is left out (for checking the settings alone).
    /// </summary>
    public static PriceTable Read(IConfiguration pricesSection, PricesOptions options, bool withDefaults = true)
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
            var webSearch = ReadPrice(child, "WebSearch", prefix, errors, required: false);
            var webFetch = ReadPrice(child, "WebFetch", prefix, errors, required: false);
            var longContext = ReadLongContext(child.GetSection("LongContext"), prefix + ":LongContext", errors);
            var multipliers = ReadMultipliers(child, prefix, errors);
            var batchDiscount = ReadPrice(child, "BatchDiscount", prefix, errors, required: false);
            if (batchDiscount is not null && !IsDiscount(batchDiscount.Value))
            {
                errors.Add($"{prefix}:BatchDiscount {DiscountRule}");
                batchDiscount = null;
            }
            foreach (var unknown in child.GetChildren().Select(static c => c.Key).Where(static k => !EntrySettings.Contains(k)))
            {
                errors.Add($"{prefix}:{unknown} is not a price ({string.Join(", ", EntrySettings)}).");
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
                read ?? input.Value * ModelPrice.CacheReadFactor)
            {
                WebSearch = webSearch ?? ModelPrice.WebSearchDefault,
                WebFetch = webFetch ?? 0m,
                LongContext = longContext,
                Multipliers = PriceMultipliers.Default.With(multipliers),
                BatchDiscount = batchDiscount,
            };
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

        if (options.ServerToolUsesWithoutMax is < 0 or > 10_000)
        {
            errors.Add("Gateway:Prices:ServerToolUsesWithoutMax must be from 0 to 10000.");
        }

        if (!IsDiscount(options.BatchDiscount))
        {
            errors.Add($"Gateway:Prices:BatchDiscount {DiscountRule}");
        }

        var defaultsName = (options.Defaults ?? "").Trim();
        var defaultsWanted = !string.Equals(defaultsName, PricesOptions.NoDefaults, StringComparison.OrdinalIgnoreCase);
        if (defaultsWanted && !string.Equals(defaultsName, AnthropicListPrices.Version, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"Gateway:Prices:Defaults must be {AnthropicListPrices.Version} or {PricesOptions.NoDefaults}.");
        }

        var defaultsOn = defaultsWanted && currency == AnthropicListPrices.Currency;
        Entry[] defaults = defaultsOn && withDefaults ? [.. AnthropicListPrices.Entries.Select(static e => new Entry(e.Name, e.Models, e.Price))] : [];

        entries.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        var version = !string.IsNullOrWhiteSpace(options.Version)
            ? options.Version.Trim()
            : entries.Count == 0 && defaultsOn && options.BatchDiscount == PricesOptions.DefaultBatchDiscount
                ? AnthropicListPrices.Version
                : Fingerprint(entries, currency, defaultsOn ? AnthropicListPrices.Version : null, options.BatchDiscount);
        if (version.Length > 100)
        {
            errors.Add("Gateway:Prices:Version must have at most 100 characters.");
        }

        return new PriceTable([.. entries], defaults, version, currency, unpriced == PricesOptions.Refuse, options.ServerToolUsesWithoutMax, errors)
        {
            DefaultsVersion = defaultsOn ? AnthropicListPrices.Version : null,
            DefaultsSkippedForCurrency = defaultsWanted && !defaultsOn,
            BatchDiscount = IsDiscount(options.BatchDiscount) ? options.BatchDiscount : PricesOptions.DefaultBatchDiscount,
        };
    }

    /// <summary>
    /// The price of each file operation (<c>Gateway:Files:Prices</c>, keyed by the record's endpoint less <c>files.</c>),
    /// charged when the operation was done (a 2xx status); an operation not listed costs 0 (docs/files.md#usage-and-prices).
    /// </summary>
    public IReadOnlyDictionary<string, decimal> FileOperationPrices { get; set; } = new Dictionary<string, decimal>();

    /// <summary>
    /// The record with its cost (null when its model has no price), the currency and this table's version. The price is
    /// that of the model the upstream served (<see cref="UsageRecord.UpstreamModel"/>), or of the client's model name
    /// when the call never reached an upstream; options the upstream reports (speed, region, tier) apply.
    /// </summary>
    public UsageRecord Price(UsageRecord record)
    {
        if (Files.FilesHandler.Endpoints.IsFileOperation(record.Endpoint))
        {
            return record with
            {
                // Only an operation that was done is charged: a refused or failed one costs nothing.
                Cost = record.Status is >= 200 and < 300 &&
                       FileOperationPrices.TryGetValue(Files.FilesHandler.Endpoints.Operation(record.Endpoint), out var operation)
                    ? operation
                    : 0m,
                Currency = Currency,
                PriceVersion = Version,
            };
        }

        return Price(record, Find(record.UpstreamModel ?? record.Model), new PriceConditions(record.Speed, record.InferenceGeo, record.ServiceTier));
    }

    /// <summary>
    /// A message batch result's record with its cost at batch prices (<see cref="FindBatch"/>). The <c>service_tier</c>
    /// Anthropic reports for batch results (<c>batch</c>) is not applied on top: the batch discount is that tier's price
    /// (docs/limits-and-prices.md#batch-prices).
    /// </summary>
    public UsageRecord PriceBatchResult(UsageRecord record) =>
        Price(record, FindBatch(record.UpstreamModel ?? record.Model), new PriceConditions(record.Speed, record.InferenceGeo, null));

    /// <summary>The batch price of a model name (<see cref="ModelPrice.AtBatchPrices"/>), or null when it has no price.</summary>
    public ModelPrice? FindBatch(string? model) => Find(model)?.AtBatchPrices(BatchDiscount);

    private UsageRecord Price(UsageRecord record, ModelPrice? price, PriceConditions conditions) => price is null
        ? record with { Cost = null, Currency = null, PriceVersion = Version }
        : record with
        {
            Cost = Money.FromMicros(price.CostMicros(BillableTokens.From(record), conditions)),
            Currency = Currency,
            PriceVersion = Version,
        };

    /// <summary>The price of a model name: the operator's most specific entry, else the default table's, else null.</summary>
    public ModelPrice? Find(string? model)
    {
        if (string.IsNullOrEmpty(model))
        {
            return null;
        }

        if (_found.TryGetValue(model, out var known))
        {
            return known;
        }

        var price = Find(_entries, model) ?? Find(_defaults, model);
        if (_found.Count < MaxRemembered)
        {
            _found.TryAdd(model, price);
        }

        return price;
    }

    private static ModelPrice? Find(Entry[] entries, string model)
    {
        ModelPrice? best = null;
        var bestScore = -1;
        foreach (var entry in entries)
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

    private static LongContextPrice? ReadLongContext(IConfigurationSection section, string prefix, List<string> errors)
    {
        if (!section.GetChildren().Any())
        {
            return null;
        }

        var above = section["AboveTokens"];
        var input = ReadPrice(section, "Input", prefix, errors, required: true);
        var output = ReadPrice(section, "Output", prefix, errors, required: true);
        if (!long.TryParse(above, NumberStyles.None, CultureInfo.InvariantCulture, out var threshold) || threshold < 1)
        {
            errors.Add($"{prefix}:AboveTokens must be a whole number of tokens (the prompt length above which the premium applies).");
            return null;
        }

        return input is null || output is null ? null : new LongContextPrice(threshold, input.Value, output.Value);
    }

    /// <summary>Reads <c>Speed:{value}</c>, <c>InferenceGeo:{value}</c> and <c>ServiceTier:{value}</c> multipliers.</summary>
    private static List<KeyValuePair<string, decimal>> ReadMultipliers(IConfigurationSection entry, string prefix, List<string> errors)
    {
        var factors = new List<KeyValuePair<string, decimal>>();
        foreach (var (setting, option) in MultiplierSettings)
        {
            var section = entry.GetSection(setting);
            foreach (var value in section.GetChildren())
            {
                if (ReadPrice(section, value.Key, prefix + ":" + setting, errors, required: false) is { } factor)
                {
                    factors.Add(new(PriceMultipliers.Key(option, value.Key), factor));
                }
            }
        }

        return factors;
    }

    private const string DiscountRule = "must be above 0 and at most 1 (a fraction of the standard token prices; Anthropic's batch price is 0.5).";

    private static bool IsDiscount(decimal discount) => discount is > 0m and <= 1m;

    private static string Fingerprint(List<Entry> entries, string currency, string? defaultsVersion, decimal batchDiscount)
    {
        var text = new StringBuilder(currency);
        if (batchDiscount != PricesOptions.DefaultBatchDiscount)
        {
            text.Append(CultureInfo.InvariantCulture, $"|batch={batchDiscount}");
        }

        if (defaultsVersion is not null)
        {
            text.Append("|defaults=").Append(defaultsVersion);
        }

        foreach (var entry in entries)
        {
            var p = entry.Price;
            text.Append('\n').Append(entry.Name).Append('|').AppendJoin(',', entry.Patterns).Append('|')
                .Append(CultureInfo.InvariantCulture, $"{p.Input}|{p.Output}|{p.CacheWrite5m}|{p.CacheWrite1h}|{p.CacheRead}");
            if (p.WebSearch != ModelPrice.WebSearchDefault || p.WebFetch != 0m || p.LongContext is not null || !p.Multipliers.Equals(PriceMultipliers.Default))
            {
                text.Append(CultureInfo.InvariantCulture, $"|{p.WebSearch}|{p.WebFetch}|{p.LongContext}|{p.Multipliers}");
            }

            if (p.BatchDiscount is { } discount)
            {
                text.Append(CultureInfo.InvariantCulture, $"|batch={discount}");
            }
        }

        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..12];
    }

    private static readonly (string Setting, string Option)[] MultiplierSettings =
        [("Speed", PriceMultipliers.Speed), ("InferenceGeo", PriceMultipliers.InferenceGeo), ("ServiceTier", PriceMultipliers.ServiceTier)];

    private static readonly string[] EntrySettings =
        ["Input", "Output", "CacheWrite5m", "CacheWrite1h", "CacheRead", "Models", "WebSearch", "WebFetch", "LongContext", "Speed", "InferenceGeo", "ServiceTier",
         "BatchDiscount"];

    private sealed record Entry(string Name, string[] Patterns, ModelPrice Price);
}
