using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Qhaigc.Functions.Translation;

/// <summary>Small, allocation-light readers and writers shared by the translators.</summary>
public static class JsonValues
{
    public static string? GetString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    public static long? GetLong(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number &&
        value.TryGetInt64(out var number)
            ? number
            : null;

    public static bool TryGet(JsonElement element, string name, JsonValueKind kind, out JsonElement value) =>
        element.TryGetProperty(name, out value) && value.ValueKind == kind;

    /// <summary>True when the property exists and is not JSON <c>null</c>.</summary>
    public static bool Has(JsonElement element, string name, out JsonElement value) =>
        element.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    /// <summary>Writes a JSON document with a callback and returns its bytes.</summary>
    public static byte[] Write(Action<Utf8JsonWriter> write, int initialCapacity = 256)
    {
        var buffer = new ArrayBufferWriter<byte>(initialCapacity);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The text of one JSON string token (<paramref name="quoted"/>, quotes included, as a reader accepted it) as UTF-8
    /// in <paramref name="destination"/>, which needs the token's length; returns the bytes written. A lone surrogate
    /// escape such as <c>\ud83d</c>, which System.Text.Json refuses to unescape, becomes U+FFFD instead of an exception.
    /// </summary>
    public static int UnescapeString(ReadOnlySpan<byte> quoted, Span<byte> destination)
    {
        var reader = new Utf8JsonReader(quoted);
        reader.Read();
        try
        {
            return reader.CopyString(destination);
        }
        catch (InvalidOperationException)
        {
            return UnescapeReplacingLoneSurrogates(quoted[1..^1], destination);
        }
    }

    /// <summary>JSON string unescaping for content a reader validated: the escapes are well formed, only their values may not be.</summary>
    private static int UnescapeReplacingLoneSurrogates(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var written = 0;
        while (!source.IsEmpty)
        {
            var backslash = source.IndexOf((byte)'\\');
            var plain = backslash < 0 ? source : source[..backslash];
            plain.CopyTo(destination[written..]);
            written += plain.Length;
            if (backslash < 0)
            {
                break;
            }

            var escape = source[backslash + 1];
            source = source[(backslash + 2)..];
            if (escape != (byte)'u')
            {
                destination[written++] = escape switch
                {
                    (byte)'b' => (byte)'\b',
                    (byte)'f' => (byte)'\f',
                    (byte)'n' => (byte)'\n',
                    (byte)'r' => (byte)'\r',
                    (byte)'t' => (byte)'\t',
                    _ => escape, // " \ /
                };
                continue;
            }

            var unit = Hex4(source);
            source = source[4..];
            Rune rune;
            if (char.IsHighSurrogate(unit) && source.Length >= 6 && source[0] == (byte)'\\' && source[1] == (byte)'u' &&
                Hex4(source[2..]) is var low && char.IsLowSurrogate(low))
            {
                rune = new Rune(unit, low);
                source = source[6..];
            }
            else
            {
                rune = char.IsSurrogate(unit) ? Rune.ReplacementChar : new Rune(unit);
            }

            written += rune.EncodeToUtf8(destination[written..]);
        }

        return written;
    }

    private static char Hex4(ReadOnlySpan<byte> digits) =>
        (char)ushort.Parse(digits[..4], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    /// <summary>Parses bytes that should be one JSON value; null when they are not JSON.</summary>
    public static JsonDocument? TryParse(ReadOnlyMemory<byte> json)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
