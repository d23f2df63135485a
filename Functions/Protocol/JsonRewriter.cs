using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Qhaigc.Functions.Protocol;

/// <summary>Targeted edits of JSON documents that leave every other property exactly as it was.</summary>
public static class JsonRewriter
{
    /// <summary>Copies a top-level object with one string property set to a new value (added if missing).</summary>
    public static byte[] WithTopLevelString(JsonElement root, string name, string value) =>
        Rewrite(root, name, value, numberName: null, number: null);

    /// <summary>
    /// Copies a request body with <c>model</c> and <c>temperature</c> set where a value is given (added if missing),
    /// every other property as it was.
    /// </summary>
    public static byte[] WithTopLevelValues(JsonElement root, string? model, double? temperature) =>
        Rewrite(root, model is null ? null : "model", model, temperature is null ? null : "temperature", temperature);

    private static byte[] Rewrite(JsonElement root, string? stringName, string? value, string? numberName, double? number)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            writer.WriteStartObject();
            var stringWritten = stringName is null;
            var numberWritten = numberName is null;
            foreach (var property in root.EnumerateObject())
            {
                if (stringName is not null && property.NameEquals(stringName))
                {
                    if (!stringWritten)
                    {
                        writer.WriteString(stringName, value);
                        stringWritten = true;
                    }

                    continue;
                }

                if (numberName is not null && property.NameEquals(numberName))
                {
                    if (!numberWritten)
                    {
                        writer.WriteNumber(numberName, number!.Value);
                        numberWritten = true;
                    }

                    continue;
                }

                property.WriteTo(writer);
            }

            if (!stringWritten)
            {
                writer.WriteString(stringName!, value);
            }

            if (!numberWritten)
            {
                writer.WriteNumber(numberName!, number!.Value);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Sets <c>model</c> in a message body, or in the <c>message</c> of a <c>message_start</c> event.</summary>
    public static byte[] WithMessageModel(ReadOnlySpan<byte> json, string model)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return json.ToArray();
        }

        if (node is not JsonObject root)
        {
            return json.ToArray();
        }

        var target = root["message"] as JsonObject ?? root;
        if (target.ContainsKey("model"))
        {
            target["model"] = model;
        }

        return JsonSerializer.SerializeToUtf8Bytes(root, GatewayJsonContext.Default.JsonNode);
    }
}
