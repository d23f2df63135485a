namespace Qhaigc.Functions.Governance;

/// <summary>
/// A long-context premium: a call whose prompt (input, cache writes and cache reads together) is above
/// <see cref="AboveTokens"/> pays every input-side price times <see cref="InputFactor"/> and the output price times
/// <see cref="OutputFactor"/>, for the whole call (docs/limits-and-prices.md#priced-options-and-server-tools).
/// </summary>
public sealed record LongContextPrice(long AboveTokens, decimal InputFactor, decimal OutputFactor);
