using System.Globalization;
using System.Text.Json;

namespace Qhaigc.Functions.Upstreams;

/// <summary>Reads a model list page in Anthropic's or OpenAI's shape (docs/wire-contract.md#11-models).</summary>
public static class ModelListReader
{
    /// <summary>The models of one page, whether more follow (Anthropic's <c>has_more</c>), and the last id.</summary>
    public static (List<UpstreamModelInfo> Models, bool HasMore, string? LastId) Read(ReadOnlySpan<byte> json)
    {
        var models = new List<UpstreamModelInfo>();
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw new HttpRequestException("The upstream's model list has no data array.");
        }

        foreach (var item in data.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String)
            {
                continue;
            }

            DateTimeOffset? created = null;
            if (item.TryGetProperty("created_at", out var createdAt) && createdAt.ValueKind == JsonValueKind.String &&
                DateTimeOffset.TryParse(createdAt.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                created = parsed;
            }
            else if (item.TryGetProperty("created", out var unix) && unix.ValueKind == JsonValueKind.Number && unix.TryGetInt64(out var seconds) &&
                     seconds is > 0 and < 253_402_300_799)
            {
                created = DateTimeOffset.FromUnixTimeSeconds(seconds);
            }

            models.Add(new UpstreamModelInfo(
                id.GetString()!,
                item.TryGetProperty("display_name", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString() : null,
                created,
                Long(item, "max_input_tokens"),
                Long(item, "max_tokens")));
        }

        var hasMore = root.TryGetProperty("has_more", out var more) && more.ValueKind == JsonValueKind.True;
        var lastId = root.TryGetProperty("last_id", out var last) && last.ValueKind == JsonValueKind.String ? last.GetString() : null;
        return (models, hasMore, lastId);
    }

    private static long? Long(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;
}
