using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace Qhaigc.Functions.Protocol;

/// <summary>Cheap structural checks on JSON bytes, without building a document.</summary>
public static class JsonShape
{
    /// <summary>Where a JSON string's plain run ends: its closing quote, an escape, or a control character (never allowed raw).</summary>
    private static readonly SearchValues<byte> StringStops = SearchValues.Create(
        [(byte)'"', (byte)'\\', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31]);

    private static readonly SearchValues<byte> HexDigits = SearchValues.Create("0123456789abcdefABCDEF"u8);

    /// <summary>True when the bytes are exactly one well-formed JSON object (whitespace around it allowed).</summary>
    public static bool IsObject(ReadOnlySpan<byte> json) => IsCompactDelta(json) || IsObjectRead(json);

    /// <summary>
    /// True only for a streamed delta in the exact compact form Anthropic sends nearly every event of a stream in,
    /// <c>{"type":"content_block_delta","index":N,"delta":{"type":"NAME","NAME":"TEXT"}}</c>, with a well-formed string
    /// (valid escapes, no raw control character, valid UTF-8): such bytes are certainly one JSON object, checked in
    /// one pass over the text instead of token by token. False says nothing; <see cref="IsObject"/> then reads the
    /// bytes as JSON (docs/performance.md#cpu-per-streamed-event).
    /// </summary>
    public static bool IsCompactDelta(ReadOnlySpan<byte> json)
    {
        if (!Take(ref json, """{"type":"content_block_delta","index":"""u8) || !TakeIndex(ref json) ||
            !Take(ref json, ",\"delta\":{\"type\":\""u8) || !TakeName(ref json) || !Take(ref json, "\",\""u8) ||
            !TakeName(ref json) || !Take(ref json, "\":\""u8))
        {
            return false;
        }

        // The string's text, then exactly the closing quote and braces.
        while (true)
        {
            var stop = json.IndexOfAny(StringStops);
            if (stop < 0 || !Utf8.IsValid(json[..stop]))
            {
                return false;
            }

            var found = json[stop];
            if (found == '"')
            {
                return json[(stop + 1)..].SequenceEqual("}}"u8);
            }

            if (found != '\\' || !TakeEscape(ref json, stop))
            {
                return false;
            }
        }
    }

    private static bool IsObjectRead(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool Take(ref ReadOnlySpan<byte> json, ReadOnlySpan<byte> literal)
    {
        if (!json.StartsWith(literal))
        {
            return false;
        }

        json = json[literal.Length..];
        return true;
    }

    /// <summary>A JSON integer that is not negative: <c>0</c>, or digits not starting with 0.</summary>
    private static bool TakeIndex(ref ReadOnlySpan<byte> json)
    {
        var digits = json.IndexOfAnyExceptInRange((byte)'0', (byte)'9');
        if (digits <= 0 || (digits > 1 && json[0] == '0'))
        {
            return false;
        }

        json = json[digits..];
        return true;
    }

    /// <summary>A name of ASCII letters and underscores (a delta's type or field), up to its closing quote.</summary>
    private static bool TakeName(ref ReadOnlySpan<byte> json)
    {
        var length = 0;
        while (length < json.Length && (char.IsAsciiLetterLower((char)json[length]) || json[length] == '_'))
        {
            length++;
        }

        if (length == 0)
        {
            return false;
        }

        json = json[length..];
        return true;
    }

    /// <summary>The escape at <paramref name="at"/> (a backslash): one of JSON's, consumed with what came before it.</summary>
    private static bool TakeEscape(ref ReadOnlySpan<byte> json, int at)
    {
        if (at + 1 >= json.Length)
        {
            return false;
        }

        switch (json[at + 1])
        {
            case (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t':
                json = json[(at + 2)..];
                return true;
            case (byte)'u' when at + 6 <= json.Length && json.Slice(at + 2, 4).IndexOfAnyExcept(HexDigits) < 0:
                json = json[(at + 6)..];
                return true;
            default:
                return false;
        }
    }
}
