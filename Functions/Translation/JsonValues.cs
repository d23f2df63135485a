using System.Buffers;
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
