using System.Security.Cryptography;

namespace Qhaigc.Functions.Protocol;

/// <summary>Identifiers in Anthropic's style: a prefix and 24 base62 characters (docs/wire-contract.md#34-request-ids, docs/wire-contract.md#7-non-streaming-response).</summary>
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
            var id = span[prefix.Length..];
            // One call to the RNG per id, not one per character (GetItems asks it per character for an alphabet of 62,
            // the largest single cost of a request id): bytes below 248 (4 × 62) map evenly onto base62, and the few
            // others are skipped, so every character stays uniform.
            Span<byte> random = stackalloc byte[64];
            var used = random.Length;
            for (var filled = 0; filled < id.Length;)
            {
                if (used == random.Length)
                {
                    RandomNumberGenerator.Fill(random);
                    used = 0;
                }

                var value = random[used++];
                if (value < 248)
                {
                    id[filled++] = Base62[value % 62];
                }
            }
        });
    }
}
