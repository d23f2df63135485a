using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Qhaigc.Functions.Keys;

namespace Qhaigc.Functions.Admin.Usage;

/// <summary>
/// Where the next page of <c>GET /manage/usage</c> starts: the query it belongs to (key filter and range), the key whose
/// records come next, and the usage table's continuation token within that key (null: its first record).
/// </summary>
/// <remarks>
/// Clients get it as opaque text, signed with a key derived from the admin key: every instance reads the cursors of
/// the others, and a cursor a client made up or changed is refused (400) before anything of it reaches the table.
/// </remarks>
/// <param name="KeyIdFilter">The query's key, or null for every key.</param>
/// <param name="From">The query's range start.</param>
/// <param name="To">The query's range end.</param>
/// <param name="KeyId">The key whose records come next (newest first: the key of the last record given).</param>
/// <param name="Token">Where that key's records go on (newest first: the time of the last record given and the ids given at it).</param>
/// <param name="Query">The rest of the query the cursor belongs to (filters and order, <see cref="UsageQueryText"/>); empty for none.</param>
public sealed record UsageCursor(string? KeyIdFilter, DateTimeOffset From, DateTimeOffset To, string KeyId, string? Token, string Query = "")
{
    /// <summary>Far more than a cursor of ours takes (about 250 characters); longer text is not read at all.</summary>
    public const int MaxLength = 2048;

    private const byte Version = 1;
    private const int MacLength = 16;
    private const char Separator = '\n';

    /// <summary>The cursor as URL-safe text: base64url of a version byte, a truncated HMAC-SHA256 and the fields.</summary>
    public string Write(byte[] key)
    {
        var payload = Encoding.UTF8.GetBytes(string.Join(Separator,
            KeyIdFilter ?? "",
            From.UtcTicks.ToString(CultureInfo.InvariantCulture),
            To.UtcTicks.ToString(CultureInfo.InvariantCulture),
            KeyId,
            Token ?? "",
            Query));
        var bytes = new byte[1 + MacLength + payload.Length];
        bytes[0] = Version;
        payload.CopyTo(bytes, 1 + MacLength);
        Mac(key, payload).CopyTo(bytes, 1);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>False for anything that is not a cursor <see cref="Write"/> made with the same key.</summary>
    public static bool TryRead(string text, byte[] key, [NotNullWhen(true)] out UsageCursor? cursor)
    {
        cursor = null;
        if (text.Length is 0 or > MaxLength)
        {
            return false;
        }

        var bytes = new byte[Base64Url.GetMaxDecodedLength(text.Length)];
        if (Base64Url.DecodeFromChars(text, bytes, out _, out var length) != System.Buffers.OperationStatus.Done ||
            length <= 1 + MacLength || bytes[0] != Version ||
            // One text per cursor: refuses spare bits set in the last character, which decoding alone would let pass.
            Base64Url.EncodeToString(bytes.AsSpan(0, length)) != text)
        {
            return false;
        }

        var payload = bytes.AsSpan(1 + MacLength, length - 1 - MacLength);
        if (!CryptographicOperations.FixedTimeEquals(bytes.AsSpan(1, MacLength), Mac(key, payload)))
        {
            return false;
        }

        var fields = Encoding.UTF8.GetString(payload).Split(Separator);
        if (fields.Length != 6 ||
            !long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var from) ||
            !long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var to) ||
            from > DateTimeOffset.MaxValue.UtcTicks || to > DateTimeOffset.MaxValue.UtcTicks ||
            ApiKeyHasher.PartitionFromId(fields[3]) is null)
        {
            return false;
        }

        cursor = new UsageCursor(
            fields[0].Length > 0 ? fields[0] : null,
            new DateTimeOffset(from, TimeSpan.Zero),
            new DateTimeOffset(to, TimeSpan.Zero),
            fields[3],
            fields[4].Length > 0 ? fields[4] : null,
            fields[5]);
        return true;
    }

    /// <summary>Whether this cursor continues the query of <paramref name="keyIdFilter"/>, <paramref name="from"/> and <paramref name="to"/>.</summary>
    public bool Continues(string? keyIdFilter, DateTimeOffset from, DateTimeOffset to, string query = "") =>
        KeyIdFilter == keyIdFilter && From == from && To == to && Query == query;

    private static byte[] Mac(byte[] key, ReadOnlySpan<byte> payload)
    {
        Span<byte> version = [Version];
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(version);
        hmac.AppendData(payload);
        return hmac.GetHashAndReset()[..MacLength];
    }
}
