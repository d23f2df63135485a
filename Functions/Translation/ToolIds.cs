using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Translation;

/// <summary>Tool-call ids from OpenAI-compatible upstreams, made safe for Claude clients (docs/wire-contract.md#7-non-streaming-response).</summary>
public static class ToolIds
{
    /// <summary>Keeps <c>[A-Za-z0-9_-]</c> and replaces anything else with <c>_</c>; a missing id gets a fresh <c>toolu_</c> one.</summary>
    public static string Sanitize(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return Ids.New("toolu_");
        }

        return string.Create(id.Length, id, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_';
            }
        });
    }
}
