namespace Qhaigc.Functions.Hosting;

/// <summary>
/// The scalar settings of <c>Gateway:Prices</c>. Every other child of that section is one price entry
/// (<c>Gateway:Prices:{model or glob}:Input|Output|CacheWrite5m|CacheWrite1h|CacheRead</c>), read by
/// <see cref="Governance.PriceTable"/>, because a model name is not a property name.
/// </summary>
public sealed class PricesOptions
{
    public const string Allow = "allow";
    public const string Refuse = "refuse";

    /// <summary>Names under <c>Gateway:Prices</c> that are settings, not price entries.</summary>
    public static IReadOnlyList<string> SettingNames { get; } = [nameof(Version), nameof(Currency), nameof(UnpricedModels)];

    /// <summary>Written into every usage record; unset means a hash of the price entries, so a change is always visible.</summary>
    public string? Version { get; set; }

    /// <summary>ISO 4217 code of every price and spend cap (the operator's currency).</summary>
    public string Currency { get; set; } = "USD";

    /// <summary><c>allow</c>: a model without a price runs and is recorded without a cost; <c>refuse</c>: 403.</summary>
    public string UnpricedModels { get; set; } = Allow;
}
