using System.Runtime.InteropServices;
using System.Text.Json;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// One request of a batch, <c>{"custom_id": …, "params": {…}}</c>, parsed from its bytes: the id, and the params' own
/// bytes exactly as sent. Anthropic's rules for <c>custom_id</c>: 1 to 64 of <c>[A-Za-z0-9_-]</c>, unique in the batch.
/// </summary>
public sealed class BatchRequestParts : IDisposable
{
    public const int MaxCustomIdLength = 64;

    private readonly JsonDocument _document;

    private BatchRequestParts(JsonDocument document, string customId, JsonElement parameters)
    {
        _document = document;
        CustomId = customId;
        Params = parameters;
    }

    public string CustomId { get; }

    public JsonElement Params { get; }

    /// <summary>The params' bytes as sent.</summary>
    public ReadOnlySpan<byte> ParamsBytes => JsonMarshal.GetRawUtf8Value(Params);

    /// <summary>The request's parts, or why it is not a batch request (the message names <c>requests.{index}</c>).</summary>
    public static BatchRequestParts? Read(byte[] bytes, int index, out ApiError? error)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, MessagesRequestValidator.ParseOptions);
        }
        catch (JsonException)
        {
            // Duplicate properties are what the body reader lets through; anything else it refused already.
            error = ApiError.InvalidRequest($"requests.{index}: a property appears more than once.");
            return null;
        }

        var root = document.RootElement;
        string? customId = null;
        JsonElement? parameters = null;
        foreach (var property in root.EnumerateObject())
        {
            if (property.NameEquals("custom_id"u8))
            {
                customId = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
                if (!IsCustomId(customId))
                {
                    document.Dispose();
                    error = ApiError.InvalidRequest($"requests.{index}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,{MaxCustomIdLength}}}$'");
                    return null;
                }
            }
            else if (property.NameEquals("params"u8))
            {
                parameters = property.Value;
            }
            else
            {
                document.Dispose();
                error = ApiError.InvalidRequest($"requests.{index}.{Truncate(property.Name)}: Extra inputs are not permitted");
                return null;
            }
        }

        if (customId is null || parameters is null)
        {
            document.Dispose();
            error = ApiError.InvalidRequest(customId is null
                ? $"requests.{index}.custom_id: Field required"
                : $"requests.{index}.params: Field required (custom_id '{customId}')");
            return null;
        }

        error = null;
        return new BatchRequestParts(document, customId, parameters.Value);
    }

    /// <summary>The same characters as an owned object's id (<see cref="Ownership.OwnedObjectIds"/>), at most 64 of them.</summary>
    public static bool IsCustomId(string? id) => id is { Length: <= MaxCustomIdLength } && Ownership.OwnedObjectIds.IsValid(id);

    public void Dispose() => _document.Dispose();

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64];
}
