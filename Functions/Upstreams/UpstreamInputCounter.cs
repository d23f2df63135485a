using System.Text.Json;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Translation;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// Asks the call's primary upstream for its <c>count_tokens</c> (free at Anthropic) before admission, with only the
/// fields that endpoint takes; any failure (an error, a timeout, an unreadable answer) is a null count, so the call
/// reserves its worst case instead (docs/limits-and-prices.md#what-a-hard-cap-guarantees).
/// </summary>
public sealed class UpstreamInputCounter(ITokenCountingUpstream upstream, string upstreamModel, WaitClock? waits, CancellationToken aborted)
    : IInputTokenCounter
{
    /// <summary>The request fields <c>count_tokens</c> takes; the rest (max_tokens, stream, sampling) it refuses.</summary>
    private static readonly string[] CountedFields =
        ["model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers", "context_management", "output_format"];

    /// <summary>A counter for the call's routes, when the first one counts; null otherwise.</summary>
    public static UpstreamInputCounter? For(IReadOnlyList<UpstreamRoute> routes, WaitClock? waits, CancellationToken aborted) =>
        routes.Count > 0 && routes[0].Upstream is ITokenCountingUpstream counting
            ? new UpstreamInputCounter(counting, routes[0].UpstreamModel, waits, aborted)
            : null;

    public async ValueTask<long?> CountAsync(MessagesRequest request)
    {
        var body = JsonValues.Write(writer =>
        {
            writer.WriteStartObject();
            foreach (var property in request.Root.EnumerateObject())
            {
                if (Array.IndexOf(CountedFields, property.Name) >= 0)
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }, request.Body.Length + 16);
        using var counted = new MessagesRequest(body, JsonDocument.Parse(body), request.Model, 0, stream: false)
        {
            AnthropicVersion = request.AnthropicVersion,
            AnthropicBeta = request.AnthropicBeta,
            ExtraAnthropicHeaders = request.ExtraAnthropicHeaders,
        };
        try
        {
            await using var response = await upstream.CountTokensAsync(counted, upstreamModel, waits, aborted);
            if (response.Error is not null || response.Body is not { } answer)
            {
                return null;
            }

            using var document = JsonDocument.Parse(answer);
            return JsonValues.GetLong(document.RootElement, "input_tokens") is { } tokens && tokens >= 0 ? tokens : null;
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or OperationCanceledException or JsonException)
        {
            return null;
        }
    }
}
