using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// Counts a request's input tokens exactly before admission, for <c>Gateway:Limits:UnmeasuredInput = count-first</c>
/// (docs/limits-and-prices.md#what-a-hard-cap-guarantees). Null when the count could not be had: the caller then
/// reserves the worst case.
/// </summary>
public interface IInputTokenCounter
{
    ValueTask<long?> CountAsync(MessagesRequest request);
}
