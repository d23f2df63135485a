using System.Globalization;
using System.Text;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// Multipliers of a model's token prices for the request options that change them
/// (docs/limits-and-prices.md#priced-options-and-server-tools): <c>speed</c> (<c>fast</c>), <c>inference_geo</c>
/// (<c>us</c>: 1.1× by default, Anthropic's price for US-only inference) and <c>service_tier</c>. Each option's standard
/// value (<c>standard</c>, <c>global</c>, <c>standard</c>) costs 1× unless an entry says otherwise. Compared by value.
/// </summary>
public sealed class PriceMultipliers : IEquatable<PriceMultipliers>
{
    public const string Speed = "speed";
    public const string InferenceGeo = "inference_geo";
    public const string ServiceTier = "service_tier";

    private readonly Dictionary<string, decimal> _factors = new(StringComparer.OrdinalIgnoreCase);
    private readonly string _canonical;

    private PriceMultipliers(IEnumerable<KeyValuePair<string, decimal>> factors)
    {
        foreach (var (key, factor) in factors)
        {
            _factors[key] = factor;
        }

        _canonical = Canonical(_factors);
    }

    /// <summary>The multipliers every entry starts from: US-only inference at 1.1×, priority tier at 1×, batch at 0.5×.</summary>
    public static PriceMultipliers Default { get; } = new(new Dictionary<string, decimal>
    {
        [Key(InferenceGeo, "us")] = 1.1m,
        [Key(ServiceTier, "priority")] = 1m,
        [Key(ServiceTier, "batch")] = 0.5m,
    });

    /// <summary>Every multiplier as <c>option:value</c>, for the price version's fingerprint and the docs.</summary>
    public IReadOnlyDictionary<string, decimal> Factors => _factors;

    public static string Key(string option, string value) => option + ":" + value;

    /// <summary>These multipliers with some set or replaced (keys are <c>option:value</c>).</summary>
    public PriceMultipliers With(IEnumerable<KeyValuePair<string, decimal>> factors)
    {
        var merged = new Dictionary<string, decimal>(_factors, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in factors)
        {
            merged[key] = value;
        }

        return merged.Count == _factors.Count && Holds(merged) ? this : new PriceMultipliers(merged);
    }

    /// <summary>
    /// The multiplier of a call as the upstream reports it ran. A value no entry prices is billed at the option's
    /// highest multiplier (never below 1×), so an unexpected report never bills less than it could cost.
    /// </summary>
    public decimal Billed(PriceConditions conditions) =>
        Reported(Speed, conditions.Speed) * Reported(InferenceGeo, conditions.InferenceGeo) * Reported(ServiceTier, conditions.ServiceTier);

    /// <summary>
    /// The multiplier a call is reserved at, from what it asks: the most it can be billed. Null, with the reason, when it
    /// asks for a value this price does not know (a capped key is then refused: the gateway could not bound the cost).
    /// </summary>
    public decimal? Reserved(PricedRequest request, out string? problem)
    {
        problem = null;
        var speed = Asked(Speed, request.Speed, ref problem);
        var geo = Asked(InferenceGeo, request.InferenceGeo, ref problem);
        decimal? tier = request.ServiceTier switch
        {
            // "auto" (the default) may run on priority capacity when the organisation has it.
            null or "auto" => Math.Max(Factor(ServiceTier, "standard") ?? 1m, Factor(ServiceTier, "priority") ?? 1m),
            "standard_only" => Factor(ServiceTier, "standard") ?? 1m,
            _ => Asked(ServiceTier, request.ServiceTier, ref problem),
        };
        return problem is null ? speed!.Value * geo!.Value * tier!.Value : null;
    }

    public bool Equals(PriceMultipliers? other) => other is not null && string.Equals(_canonical, other._canonical, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as PriceMultipliers);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(_canonical);

    public override string ToString() => _canonical;

    private decimal? Asked(string option, string? value, ref string? problem)
    {
        value ??= StandardValue(option);
        if (IsStandard(option, value))
        {
            return Factor(option, value) ?? 1m;
        }

        if (Factor(option, value) is { } factor)
        {
            return factor;
        }

        problem ??= $"{option} '{value}'";
        return null;
    }

    private decimal Reported(string option, string? value)
    {
        if (value is null)
        {
            return 1m;
        }

        if (Factor(option, value) is { } factor)
        {
            return factor;
        }

        if (IsStandard(option, value))
        {
            return 1m;
        }

        var prefix = option + ":";
        var highest = 1m;
        foreach (var (key, priced) in _factors)
        {
            if (key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                highest = Math.Max(highest, priced);
            }
        }

        return highest;
    }

    /// <summary>Whether every multiplier of <paramref name="factors"/> is one of these, at the same value.</summary>
    private bool Holds(Dictionary<string, decimal> factors)
    {
        foreach (var (key, factor) in factors)
        {
            if (!_factors.TryGetValue(key, out var mine) || mine != factor)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// <c>option:value=factor</c> of every entry, ordered by key, any case: what makes two sets of multipliers equal.
    /// Loops rather than LINQ: its generic code over <c>decimal</c> pairs is compiled at run time, on every new
    /// instance's start, where the price table is built (docs/performance.md#cold-start).
    /// </summary>
    private static string Canonical(Dictionary<string, decimal> factors)
    {
        var keys = new string[factors.Count];
        factors.Keys.CopyTo(keys, 0);
        Array.Sort(keys, StringComparer.OrdinalIgnoreCase);
        var text = new StringBuilder();
        foreach (var key in keys)
        {
            text.Append(text.Length == 0 ? "" : ";").Append(key.ToLowerInvariant()).Append('=').Append(factors[key].ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    private decimal? Factor(string option, string value) => _factors.TryGetValue(Key(option, value), out var factor) ? factor : null;

    private static bool IsStandard(string option, string value) => string.Equals(value, StandardValue(option), StringComparison.OrdinalIgnoreCase);

    private static string StandardValue(string option) => option == InferenceGeo ? "global" : "standard";
}
