namespace Qhaigc.Functions.Governance;

/// <summary>
/// The options an upstream reports in <c>usage</c> that change a call's price: <c>speed</c> (fast mode),
/// <c>inference_geo</c> (where inference ran) and <c>service_tier</c>. Null is what an upstream that does not report
/// the option means: the standard price.
/// </summary>
public readonly record struct PriceConditions(string? Speed, string? InferenceGeo, string? ServiceTier);
