using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Upstreams;

/// <summary>An upstream that counts tokens itself (<c>POST /v1/messages/count_tokens</c>, docs/wire-contract.md#10-count_tokens).</summary>
public interface ITokenCountingUpstream
{
    /// <summary>The upstream's <c>{"input_tokens": N}</c> as a message body, or its error.</summary>
    Task<UpstreamResponse> CountTokensAsync(MessagesRequest request, string upstreamModel, WaitClock? waits, CancellationToken cancellationToken);
}
