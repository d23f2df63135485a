using System.Text.Json;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// The <c>anthropic-version</c> rules an Anthropic upstream would apply, applied by the gateway when it translates for
/// an upstream that does not know them (docs/wire-contract.md#31-anthropic-version): under <c>2026-10-21</c>, <c>temperature</c>, <c>top_p</c>,
/// <c>top_k</c> and a <c>document</c> in an assistant turn are rejected.
/// </summary>
public static class VersionRules
{
    public const string Strict = "2026-10-21";

    public static ApiError? Check(string? version, JsonElement root)
    {
        if (version != Strict)
        {
            return null;
        }

        foreach (var name in (ReadOnlySpan<string>)["temperature", "top_p", "top_k"])
        {
            if (root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
            {
                return ApiError.InvalidRequest($"{name}: Extra inputs are not permitted with anthropic-version {Strict}");
            }
        }

        var index = 0;
        foreach (var message in root.GetProperty("messages").EnumerateArray())
        {
            if (message.GetProperty("role").GetString() == "assistant" && message.GetProperty("content") is { ValueKind: JsonValueKind.Array } content)
            {
                var blockIndex = 0;
                foreach (var block in content.EnumerateArray())
                {
                    if (block.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "document")
                    {
                        return ApiError.InvalidRequest(
                            $"messages.{index}.content.{blockIndex}: document blocks are not allowed in assistant turns with anthropic-version {Strict}");
                    }

                    blockIndex++;
                }
            }

            index++;
        }

        return null;
    }
}
