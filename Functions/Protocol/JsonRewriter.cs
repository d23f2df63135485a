using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Qhaigc.Functions.Protocol;

/// <summary>
/// Targeted edits of JSON documents that leave every other property exactly as it was, byte for byte: each property
/// is copied from the original bytes (<see cref="JsonMarshal"/>), so text, escapes and numbers reach the upstream or the
/// client as they were sent (docs/wire-contract.md#6-request-body). Only whitespace between properties is not kept.
/// </summary>
public static class JsonRewriter
{
    /// <summary>Copies a top-level object with one string property set to a new value (added if missing).</summary>
    public static byte[] WithTopLevelString(JsonElement root, string name, string value)
    {
        var output = new ArrayBufferWriter<byte>(JsonMarshal.GetRawUtf8Value(root).Length + 64);
        CopyObject(output, root, name, value, numberName: null, number: 0, addMissing: true);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Copies a request body with <c>model</c> and <c>temperature</c> set where a value is given (added if missing),
    /// every other property as it was.
    /// </summary>
    public static byte[] WithTopLevelValues(JsonElement root, string? model, double? temperature)
    {
        var output = new ArrayBufferWriter<byte>(JsonMarshal.GetRawUtf8Value(root).Length + 64);
        CopyObject(output, root, model is null ? null : "model", model, temperature is null ? null : "temperature", temperature ?? 0, addMissing: true);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Sets <c>model</c> in a message body, or in the <c>message</c> of a <c>message_start</c> event, where it is present.</summary>
    public static byte[] WithMessageModel(ReadOnlySpan<byte> json, string model)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            return json.ToArray();
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return json.ToArray();
            }

            var output = new ArrayBufferWriter<byte>(json.Length + 64);
            if (!root.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object)
            {
                CopyObject(output, root, "model", model, numberName: null, number: 0, addMissing: false);
                return output.WrittenSpan.ToArray();
            }

            Write(output, "{"u8);
            var first = true;
            foreach (var property in root.EnumerateObject())
            {
                WriteName(output, property, ref first);
                if (property.NameEquals("message"u8))
                {
                    CopyObject(output, property.Value, "model", model, numberName: null, number: 0, addMissing: false);
                }
                else
                {
                    Write(output, JsonMarshal.GetRawUtf8Value(property.Value));
                }
            }

            Write(output, "}"u8);
            return output.WrittenSpan.ToArray();
        }
    }

    /// <summary>
    /// Copies an object: the first <paramref name="stringName"/> and <paramref name="numberName"/> get the new values
    /// (later duplicates are dropped), every other property is copied raw; missing ones are added when asked.
    /// </summary>
    private static void CopyObject(
        ArrayBufferWriter<byte> output, JsonElement obj, string? stringName, string? value, string? numberName, double number, bool addMissing)
    {
        Write(output, "{"u8);
        var first = true;
        var stringDone = stringName is null;
        var numberDone = numberName is null;
        foreach (var property in obj.EnumerateObject())
        {
            if (stringName is not null && property.NameEquals(stringName))
            {
                if (!stringDone)
                {
                    WriteName(output, property, ref first);
                    WriteString(output, value!);
                    stringDone = true;
                }

                continue;
            }

            if (numberName is not null && property.NameEquals(numberName))
            {
                if (!numberDone)
                {
                    WriteName(output, property, ref first);
                    WriteNumber(output, number);
                    numberDone = true;
                }

                continue;
            }

            WriteName(output, property, ref first);
            Write(output, JsonMarshal.GetRawUtf8Value(property.Value));
        }

        if (addMissing && !stringDone)
        {
            WriteName(output, stringName!, ref first);
            WriteString(output, value!);
        }

        if (addMissing && !numberDone)
        {
            WriteName(output, numberName!, ref first);
            WriteNumber(output, number);
        }

        Write(output, "}"u8);
    }

    private static void WriteName(ArrayBufferWriter<byte> output, JsonProperty property, ref bool first)
    {
        Write(output, first ? "\""u8 : ",\""u8);
        first = false;
        Write(output, JsonMarshal.GetRawUtf8PropertyName(property));
        Write(output, "\":"u8);
    }

    private static void WriteName(ArrayBufferWriter<byte> output, string name, ref bool first)
    {
        Write(output, first ? "\""u8 : ",\""u8);
        first = false;
        Write(output, Encoding.UTF8.GetBytes(name));
        Write(output, "\":"u8);
    }

    private static void WriteString(ArrayBufferWriter<byte> output, string value)
    {
        Write(output, "\""u8);
        Write(output, JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).EncodedUtf8Bytes);
        Write(output, "\""u8);
    }

    private static void WriteNumber(ArrayBufferWriter<byte> output, double number) =>
        Write(output, Encoding.UTF8.GetBytes(number.ToString("R", CultureInfo.InvariantCulture)));

    private static void Write(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> bytes) => output.Write(bytes);
}
