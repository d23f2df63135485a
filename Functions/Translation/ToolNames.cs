using System.Security.Cryptography;
using System.Text;

namespace Qhaigc.Functions.Translation;

/// <summary>
/// OpenAI limits function names to 64 characters; Claude tool names may be longer. A longer name is sent as its first
/// 55 characters, <c>_</c> and 8 hex digits of its SHA-256 (docs/openai-compatibility.md#92-requests-claude-to-openai), and restored in the answer.
/// </summary>
public sealed class ToolNames
{
    public const int MaxLength = 64;

    private Dictionary<string, string>? _restore;

    /// <summary>The name the upstream sees; remembered so the answer can be given the original back.</summary>
    public string Shorten(string name)
    {
        if (name.Length <= MaxLength)
        {
            return name;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(name));
        var shortened = string.Concat(name.AsSpan(0, 55), "_", Convert.ToHexStringLower(hash.AsSpan(0, 4)));
        (_restore ??= new(StringComparer.Ordinal))[shortened] = name;
        return shortened;
    }

    /// <summary>The client's name for a name the upstream used.</summary>
    public string Restore(string name) => _restore is not null && _restore.TryGetValue(name, out var original) ? original : name;
}
