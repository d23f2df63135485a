using System.Security.Cryptography;

namespace Qhaigc.Functions.Protocol;

/// <summary>Identifiers in Anthropic's style: a prefix and 24 base62 characters (spec §2.3, §3.5).</summary>
public static class Ids
{
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string NewRequestId() => New("req_");

    public static string NewMessageId() => New("msg_");

    public static string New(string prefix, int length = 24)
    {
        return string.Create(prefix.Length + length, prefix, static (span, prefix) =>
        {
            prefix.AsSpan().CopyTo(span);
            RandomNumberGenerator.GetItems(Base62, span[prefix.Length..]);
        });
    }
}
