using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Qhaigc.Functions.Keys;

/// <summary>
/// The one place that derives what is stored from a key: the SHA-256 hash (the secret itself is never stored),
/// the public key id, the table keys and the display hint. A key has 256 random bits, so a fast hash is enough:
/// there is nothing to brute-force.
/// </summary>
public static class ApiKeyHasher
{
    public const string SecretPrefix = "sk-qh-";
    public const string IdPrefix = "key_";

    /// <summary>Characters after the prefix in a secret: 32 bytes in unpadded base64url.</summary>
    public const int SecretBodyLength = 43;

    /// <summary>Hex characters of the hash that make the public id and the partition key (64 bits).</summary>
    private const int IdHexLength = 16;

    /// <summary>A new secret: <c>sk-qh-</c> and 32 random bytes in base64url.</summary>
    public static string NewSecret()
    {
        Span<byte> random = stackalloc byte[32];
        RandomNumberGenerator.Fill(random);
        return SecretPrefix + Base64Url.EncodeToString(random);
    }

    /// <summary>
    /// Whether a string has the shape of a secret <see cref="NewSecret"/> makes: <c>sk-qh-</c> and 43 base64url
    /// characters. Anything else cannot be one of our keys, so it is refused without a lookup (docs/configuration.md#key-cache).
    /// </summary>
    public static bool IsWellFormed(string secret)
    {
        if (secret.Length != SecretPrefix.Length + SecretBodyLength || !secret.StartsWith(SecretPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in secret.AsSpan(SecretPrefix.Length))
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Lower-case hex SHA-256 of the secret's UTF-8 bytes.</summary>
    public static string Hash(string secret)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var max = Encoding.UTF8.GetMaxByteCount(secret.Length);
        var bytes = max <= 512 ? stackalloc byte[max] : new byte[max];
        var count = Encoding.UTF8.GetBytes(secret, bytes);
        SHA256.HashData(bytes[..count], hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>The public id of the key with this hash: <c>key_</c> and the first 16 hex characters.</summary>
    public static string IdFromHash(string hash) => IdPrefix + hash[..IdHexLength];

    /// <summary>The partition key for a key id, or null when the id is not one of ours.</summary>
    public static string? PartitionFromId(string id)
    {
        if (!id.StartsWith(IdPrefix, StringComparison.Ordinal) || id.Length != IdPrefix.Length + IdHexLength)
        {
            return null;
        }

        var hex = id.AsSpan(IdPrefix.Length);
        foreach (var c in hex)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return null;
            }
        }

        return hex.ToString();
    }

    public static string PartitionFromHash(string hash) => hash[..IdHexLength];

    /// <summary>What admins see of a secret: its start and last four characters.</summary>
    public static string Hint(string secret) =>
        secret.Length <= 14 ? SecretPrefix + "…" : secret[..10] + "…" + secret[^4..];
}
