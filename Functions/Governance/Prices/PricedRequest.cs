using System.Text.Json;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// What a request asks for that changes its price beyond tokens (docs/limits-and-prices.md#priced-options-and-server-tools):
/// <c>speed</c>, <c>inference_geo</c>, <c>service_tier</c>, and the server tools it offers the model, with the most
/// uses each may make (<c>max_uses</c>, or <see cref="PriceTable.ServerToolUsesWithoutMax"/> when it sets none).
/// </summary>
public sealed record PricedRequest
{
    public static PricedRequest None { get; } = new();

    public string? Speed { get; init; }

    public string? InferenceGeo { get; init; }

    public string? ServiceTier { get; init; }

    /// <summary>The most web searches the call can make.</summary>
    public long WebSearchUses { get; init; }

    /// <summary>The most web fetches the call can make.</summary>
    public long WebFetchUses { get; init; }

    /// <summary>A server tool whose cost the upstream does not report per call (code execution is billed by container time), else null.</summary>
    public string? UnpricedTool { get; init; }

    /// <summary>A web search or fetch tool without <c>max_uses</c>, when such tools are refused for capped keys (the setting is 0).</summary>
    public string? UnboundedTool { get; init; }

    /// <summary>Reads the priced options of a Messages request body (names are compared unescaped, as a JSON parser reads them).</summary>
    public static PricedRequest Read(JsonElement root, long usesWithoutMax)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return None;
        }

        var request = new PricedRequest
        {
            Speed = Text(root, "speed"),
            InferenceGeo = Text(root, "inference_geo"),
            ServiceTier = Text(root, "service_tier"),
        };
        if (!root.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array)
        {
            return request;
        }

        foreach (var tool in tools.EnumerateArray())
        {
            var type = tool.ValueKind == JsonValueKind.Object ? Text(tool, "type") : null;
            if (type is null)
            {
                continue;
            }

            if (type.StartsWith("web_search_", StringComparison.Ordinal) || type.StartsWith("web_fetch_", StringComparison.Ordinal))
            {
                long uses;
                if (tool.TryGetProperty("max_uses", out var max) && max.ValueKind == JsonValueKind.Number && max.TryGetInt64(out var n) && n >= 0)
                {
                    uses = n;
                }
                else
                {
                    uses = usesWithoutMax;
                    request = usesWithoutMax == 0 ? request with { UnboundedTool = request.UnboundedTool ?? type } : request;
                }

                request = type.StartsWith("web_search_", StringComparison.Ordinal)
                    ? request with { WebSearchUses = Add(request.WebSearchUses, uses) }
                    : request with { WebFetchUses = Add(request.WebFetchUses, uses) };
            }
            else if (type.StartsWith("code_execution_", StringComparison.Ordinal))
            {
                request = request with { UnpricedTool = request.UnpricedTool ?? type };
            }
        }

        return request;
    }

    private static long Add(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
