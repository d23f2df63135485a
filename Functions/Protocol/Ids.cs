using System.Security.Cryptography;

namespace Qhaigc.Functions.Protocol;

/// <summary>Identifiers in Anthropic's style: a prefix and 24 base62 characters (docs/wire-contract.md#34-request-ids, docs/wire-contract.md#7-non-streaming-response).</summary>
public static class Ids
{
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string NewRequestId() => New("req_");

    public static string NewMessageId() => New("msg_");

    /// <summary>Random bytes drawn per thread and handed out in turn: one call to the RNG per several ids.</summary>
    private const int RandomBufferLength = 256;

    [ThreadStatic]
    private static byte[]? t_random;

    [ThreadStatic]
    private static int t_used;

    public static string New(string prefix, int length = 24)
    {
        return string.Create(prefix.Length + length, prefix, static (span, prefix) =>
        {
            prefix.AsSpan().CopyTo(span);
            var id = span[prefix.Length..];
            // The bytes come from the cryptographic RNG, drawn 256 at a time per thread: a call into it costs more than
            // composing an id, and every request makes one. Bytes below 248 (4 × 62) map evenly onto base62 and the
            // few others are skipped, so every character stays uniform (GetItems would call the RNG per character).
            var random = t_random ??= new byte[RandomBufferLength];
            var used = t_used == 0 ? random.Length : t_used;
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

            t_used = used;
        });
    }
}
