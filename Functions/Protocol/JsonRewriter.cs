using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Qhaigc.Functions.Protocol;

/// <summary>Targeted edits of JSON documents that leave every other property exactly as it was.</summary>
public static class JsonRewriter
{
    /// <summary>Copies a top-level object with one string property set to a new value (added if missing).</summary>
    public static byte[] WithTopLevelString(JsonElement root, string name, string value)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            writer.WriteStartObject();
            var written = false;
            foreach (var property in root.EnumerateObject())
            {
                if (property.NameEquals(name))
                {
                    if (!written)
                    {
                        writer.WriteString(name, value);
                        written = true;
                    }

                    continue;
                }

                property.WriteTo(writer);
            }

            if (!written)
            {
                writer.WriteString(name, value);
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
