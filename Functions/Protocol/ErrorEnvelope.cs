using System.Buffers;
using System.Text.Json;

namespace Qhaigc.Functions.Protocol;

/// <summary>Writes error bodies: Claude's (docs/wire-contract.md#4-errors) and OpenAI's (docs/openai-compatibility.md#2-errors).</summary>
public static class ErrorEnvelope
{
    /// <summary><c>{"type":"error","error":{"type","message"},"request_id"}</c>.</summary>
    public static byte[] Claude(ApiError error, string? requestId)
    {
        var buffer = new ArrayBufferWriter<byte>(128 + error.Message.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteClaude(writer, error, requestId);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static void WriteClaude(Utf8JsonWriter writer, ApiError error, string? requestId)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "error"u8);
        writer.WriteStartObject("error"u8);
        writer.WriteString("type"u8, error.Type);
        writer.WriteString("message"u8, error.Message);
        writer.WriteEndObject();
        if (requestId is not null)
        {
            writer.WriteString("request_id"u8, requestId);
        }

        writer.WriteEndObject();
    }

    /// <summary><c>{"error":{"message","type","param":null,"code":null}}</c>.</summary>
    public static byte[] OpenAi(ApiError error)
    {
        var buffer = new ArrayBufferWriter<byte>(128 + error.Message.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error"u8);
            writer.WriteString("message"u8, error.Message);
            writer.WriteString("type"u8, error.Type);
            writer.WriteNull("param"u8);
            writer.WriteNull("code"u8);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads <c>error.type</c> and <c>error.message</c> from an upstream error body in Claude's or OpenAI's shape.
    /// Returns false for a body that is neither (an HTML page from a proxy, say).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out string? type, out string? message)
    {
        type = null;
        message = null;
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object ||
                !document.RootElement.TryGetProperty("error", out var error))
            {
                return false;
            }

            if (error.ValueKind == JsonValueKind.String)
            {
                message = error.GetString();
                return true;
            }

            if (error.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            if (error.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String)
            {
                type = t.GetString();
            }

            if (error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
            {
                message = m.GetString();
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
