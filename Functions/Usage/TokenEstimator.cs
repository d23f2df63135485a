using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Qhaigc.Functions.Usage;

/// <summary>
/// Estimates token counts with a real tokenizer (OpenAI's <c>o200k_base</c>, from Microsoft.ML.Tokenizers). Claude's
/// own tokenizer is not public, so for Claude models these numbers are estimates and are labelled as such: the
/// <c>x-qhaigc-estimated: true</c> header on <c>count_tokens</c>, the <c>estimated</c> flag on usage records.
/// </summary>
public sealed class TokenEstimator
{
    /// <summary>Per-message framing (role markers), as OpenAI's counting guide adds.</summary>
    public const int TokensPerMessage = 3;

    /// <summary>The system prompt Anthropic adds when tools are offered (its tool-use docs: 346 for auto/none).</summary>
    public const int ToolUseSystemTokens = 346;

    /// <summary>An image of unknown size: Claude's largest unresized image (about 1.15 megapixels / 750).</summary>
    public const int DefaultImageTokens = 1600;

    /// <summary>Claude's estimate of a PDF page's text and image tokens, taken from its PDF docs (1,500–3,000).</summary>
    public const int TokensPerPdfPage = 2000;

    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    // Loading the vocabulary takes a moment and some memory: once per estimator, on first use.
    private readonly Lazy<Tokenizer> _tokenizer = new(static () => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    public static TokenEstimator Shared { get; } = new();

    public int Count(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        if (text.Length <= SliceLength)
        {
            return _tokenizer.Value.CountTokens(text);
        }

        // Byte-pair encoding of one long run without a break (a megabyte of one letter, say) takes time quadratic in
        // its length. Short slices, cut at a space where there is one, keep the cost linear; past ExactLength
        // characters the rest is extrapolated, so one huge string cannot hold a thread for seconds (docs/faults.md).
        long total = 0;
        var start = 0;
        while (start < text.Length && start < ExactLength)
        {
            var length = Math.Min(SliceLength, text.Length - start);
            if (start + length < text.Length)
            {
                var space = text.AsSpan(start + length - SliceLength / 8, SliceLength / 8).LastIndexOfAny(' ', '\n');
                if (space > 0)
                {
                    // Cut before the space: the tokenizer joins a space to the word after it.
                    length = length - SliceLength / 8 + space;
                }
                else if (char.IsHighSurrogate(text[start + length - 1]))
                {
                    length--;
                }
            }

            total += _tokenizer.Value.CountTokens(text.AsSpan(start, length));
            start += length;
        }

        return (int)Math.Min(int.MaxValue, start >= text.Length ? total : total * text.Length / start);
    }

    /// <summary>Longest text handed to the tokenizer at once.</summary>
    private const int SliceLength = 256;

    /// <summary>Characters of one string counted exactly; the rest of a longer one is extrapolated.</summary>
    private const int ExactLength = 64 * 1024;

    /// <summary>The input tokens of a Claude Messages (or count_tokens) request: system, messages and tools.</summary>
    public long EstimateRequest(JsonElement root)
    {
        long total = 0;
        if (Property(root, "system", out var system))
        {
            total += CountContent(system);
        }

        if (Property(root, "messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                total += TokensPerMessage;
                if (Property(message, "content", out var content))
                {
                    total += CountContent(content);
                }
            }
        }

        if (Property(root, "tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0)
        {
            total += ToolUseSystemTokens;
            foreach (var tool in tools.EnumerateArray())
            {
                total += Count(tool.GetRawText());
            }
        }

        return Math.Max(1, total);
    }

    private long CountContent(JsonElement content)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return Count(content.GetString());
            case JsonValueKind.Array:
                long total = 0;
                foreach (var block in content.EnumerateArray())
                {
                    total += CountBlock(block);
                }

                return total;
            default:
                return 0;
        }
    }

    private long CountBlock(JsonElement block)
    {
        if (block.ValueKind != JsonValueKind.Object || !block.TryGetProperty("type", out _))
        {
            return 0;
        }

        switch (String(block, "type"))
        {
            case "text":
                return Count(String(block, "text"));
            case "tool_use":
                return Count(String(block, "name")) + (block.TryGetProperty("input", out var input) ? Count(input.GetRawText()) : 0);
            case "tool_result":
                return block.TryGetProperty("content", out var result) ? CountContent(result) : 0;
            case "image":
                return Property(block, "source", out var imageSource) && imageSource.ValueKind == JsonValueKind.Object
                    ? ImageTokens(imageSource)
                    : DefaultImageTokens;
            case "document":
                return Property(block, "source", out var documentSource) && documentSource.ValueKind == JsonValueKind.Object
                    ? DocumentTokens(documentSource)
                    : TokensPerPdfPage;
            case "thinking" or "redacted_thinking":
                // Earlier turns' thinking is not part of Claude's context window.
                return 0;
            default:
                return Count(block.GetRawText());
        }
    }

    private long DocumentTokens(JsonElement source)
    {
        var type = String(source, "type");
        if (type == "text")
        {
            return Count(String(source, "data"));
        }

        if (type == "content")
        {
            return source.TryGetProperty("content", out var content) ? CountContent(content) : 0;
        }

        if (type == "base64" && String(source, "data") is { } encoded)
        {
            return (long)TokensPerPdfPage * Math.Max(1, CountPdfPages(encoded));
        }

        return TokensPerPdfPage;
    }

    /// <summary>Decompressed bytes of a PDF's object streams read at most, so a small PDF cannot make the gateway inflate a bomb.</summary>
    private const int MaxInflatedBytes = 16 * 1024 * 1024;

    /// <summary>
    /// Pages of a PDF, counted by their <c>/Type /Page</c> objects (not <c>/Pages</c>), also inside compressed object
    /// streams (<c>/ObjStm</c>, where most PDFs written since PDF 1.5 keep them); 0 when unreadable. An estimate only: a
    /// spend cap never rests on it (docs/limits-and-prices.md#what-a-hard-cap-guarantees).
    /// </summary>
    public static int CountPdfPages(string base64)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            return 0;
        }

        var text = Encoding.Latin1.GetString(bytes);
        var pages = CountPageObjects(text);
        var budget = MaxInflatedBytes;
        var at = 0;
        while (budget > 0 && (at = text.IndexOf("/ObjStm", at, StringComparison.Ordinal)) >= 0)
        {
            var stream = text.IndexOf("stream", at, StringComparison.Ordinal);
            var end = stream < 0 ? -1 : text.IndexOf("endstream", stream + 6, StringComparison.Ordinal);
            if (end < 0)
            {
                break;
            }

            var start = stream + 6 + (text[stream + 6] == '\r' ? 1 : 0);
            start += start < end && text[start] == '\n' ? 1 : 0;
            if (text.AsSpan(at, stream - at).Contains("/FlateDecode", StringComparison.Ordinal))
            {
                var inflated = Inflate(bytes, start, end - start, budget);
                budget -= inflated.Length;
                pages += CountPageObjects(Encoding.Latin1.GetString(inflated));
            }

            at = end;
        }

        return pages;
    }

    private static byte[] Inflate(byte[] bytes, int start, int length, int budget)
    {
        using var output = new MemoryStream();
        try
        {
            using var input = new ZLibStream(new MemoryStream(bytes, start, length, writable: false), CompressionMode.Decompress);
            var buffer = new byte[Math.Min(budget, 64 * 1024)];
            int read;
            while (output.Length < budget && (read = input.Read(buffer, 0, (int)Math.Min(buffer.Length, budget - output.Length))) > 0)
            {
                output.Write(buffer, 0, read);
            }
        }
        catch (InvalidDataException)
        {
            // A damaged stream: whatever came out of it before the damage still counts.
        }

        return output.ToArray();
    }

    private static int CountPageObjects(string text)
    {
        var pages = 0;
        var at = 0;
        while ((at = text.IndexOf("/Type", at, StringComparison.Ordinal)) >= 0)
        {
            at += 5;
            var i = at;
            while (i < text.Length && text[i] is ' ' or '\r' or '\n' or '\t')
            {
                i++;
            }

            if (string.CompareOrdinal(text, i, "/Page", 0, 5) == 0 && (i + 5 >= text.Length || !char.IsAsciiLetter(text[i + 5])))
            {
                pages++;
            }
        }

        return pages;
    }

    /// <summary>A property of an object; false for a missing property or a value that is not an object.</summary>
    private static bool Property(JsonElement element, string name, out JsonElement value)
    {
        value = default;
        return element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out value);
    }

    /// <summary>A string property, or null when it is missing or of another type (client input is not trusted here).</summary>
    private static string? String(JsonElement element, string name) =>
        Property(element, name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>Claude's image cost, width × height / 750, after its resize to at most 1568 px on the long edge.</summary>
    private static long ImageTokens(JsonElement source)
    {
        if (String(source, "data") is not { } base64 ||
            !TryReadImageSize(base64, out var width, out var height))
        {
            return DefaultImageTokens;
        }

        double w = width, h = height;
        var scale = Math.Min(1, 1568 / Math.Max(w, h));
        w *= scale;
        h *= scale;
        return Math.Clamp((long)Math.Ceiling(w * h / 750), 1, DefaultImageTokens);
    }

    /// <summary>Width and height from a PNG, GIF or JPEG header (only the start of the data is decoded).</summary>
    public static bool TryReadImageSize(string base64, out int width, out int height)
    {
        width = height = 0;
        var prefix = base64.Length <= 262_144 ? base64 : base64[..262_144];
        var bytes = new byte[prefix.Length / 4 * 3 + 3];
        if (!Convert.TryFromBase64String(prefix[..(prefix.Length / 4 * 4)], bytes, out var length))
        {
            return false;
        }

        var span = bytes.AsSpan(0, length);
        if (span.Length >= 24 && span[..8].SequenceEqual(PngSignature))
        {
            width = BinaryPrimitives.ReadInt32BigEndian(span[16..]);
            height = BinaryPrimitives.ReadInt32BigEndian(span[20..]);
            return width > 0 && height > 0;
        }

        if (span.Length >= 10 && span[..3].SequenceEqual("GIF"u8))
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(span[6..]);
            height = BinaryPrimitives.ReadUInt16LittleEndian(span[8..]);
            return width > 0 && height > 0;
        }

        if (span.Length >= 4 && span[0] == 0xFF && span[1] == 0xD8)
        {
            var i = 2;
            while (i + 9 < span.Length)
            {
                if (span[i] != 0xFF)
                {
                    return false;
                }

                var marker = span[i + 1];
                var segment = BinaryPrimitives.ReadUInt16BigEndian(span[(i + 2)..]);
                // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
                if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                {
                    height = BinaryPrimitives.ReadUInt16BigEndian(span[(i + 5)..]);
                    width = BinaryPrimitives.ReadUInt16BigEndian(span[(i + 7)..]);
                    return width > 0 && height > 0;
                }

                i += 2 + segment;
            }
        }

        return false;
    }
}
