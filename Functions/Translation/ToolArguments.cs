using System.Text.Json;

namespace Qhaigc.Functions.Translation;

/// <summary>OpenAI tool-call <c>arguments</c> (JSON text) as a Claude <c>tool_use.input</c> object.</summary>
public static class ToolArguments
{
    /// <summary>The key under which arguments that are not a JSON object are kept, so nothing the model wrote is lost.</summary>
    public const string RawKey = "raw_arguments";

    /// <summary>
    /// Writes the arguments as an object: empty becomes <c>{}</c>; text that is not a JSON object is wrapped as
    /// <c>{"raw_arguments": text}</c> (as claude-code-proxy does) rather than dropped.
    /// </summary>
    public static void WriteInput(Utf8JsonWriter writer, string? arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            writer.WriteStartObject();
            writer.WriteEndObject();
            return;
        }

        try
        {
            using var document = JsonDocument.Parse(arguments);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                document.RootElement.WriteTo(writer);
                return;
            }
        }
        catch (JsonException)
        {
        }

        writer.WriteStartObject();
        writer.WriteString(RawKey, arguments);
        writer.WriteEndObject();
    }
}
