using System.Text.Json;

namespace Qhaigc.Functions.Protocol;

/// <summary>Cheap structural checks on JSON bytes, without building a document.</summary>
public static class JsonShape
{
    /// <summary>True when the bytes are exactly one well-formed JSON object (whitespace around it allowed).</summary>
    public static bool IsObject(ReadOnlySpan<byte> json)
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
}
