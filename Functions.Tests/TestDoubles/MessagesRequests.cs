using System.Text;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Tests.TestDoubles;

/// <summary>Validated Messages requests, as the request readers hand them to the upstream stage.</summary>
public static class MessagesRequests
{
    public const string Model = "claude-test";

    /// <summary>A one-turn request for <see cref="Model"/>; <paramref name="extra"/> adds top-level members (<c>,"temperature":1.5</c>).</summary>
    public static MessagesRequest Create(bool stream = true, string extra = "") =>
        Parse($$"""{"model":"{{Model}}","max_tokens":16,"stream":{{(stream ? "true" : "false")}}{{extra}},"messages":[{"role":"user","content":"Hi"}]}""");

    public static MessagesRequest Parse(string json) =>
        MessagesRequestValidator.Parse(Encoding.UTF8.GetBytes(json), requireMaxTokens: true, out var error)
        ?? throw new InvalidOperationException(error!.Message);
}
