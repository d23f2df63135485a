using System.Text.Json;

namespace Qhaigc.Functions.Protocol;

/// <summary>
/// Where a Messages request can name an uploaded file (docs/files.md#references): an <c>image</c> or <c>document</c>
/// block whose <c>source</c> is <c>{"type": "file", "file_id": …}</c> (also inside a <c>content</c> source's blocks), and
/// a <c>container_upload</c> block's <c>file_id</c>. One definition, used both by the validator (which marks a request
/// that names a file while it walks the blocks anyway) and by the ownership check that collects the ids, so the two can
/// never disagree about what a reference is.
/// </summary>
public static class FileSources
{
    /// <summary>
    /// True when a content block names a file; each id it names (the JSON value as sent, a string or not) is added to
    /// <paramref name="ids"/> when one is given.
    /// </summary>
    public static bool Collect(JsonElement block, List<JsonElement>? ids)
    {
        if (block.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        var found = false;
        if (block.TryGetProperty("file_id", out var direct))
        {
            // container_upload, and any block type that carries a file id of its own.
            ids?.Add(direct);
            found = true;
        }

        if (block.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.Object)
        {
            if (source.TryGetProperty("file_id", out var sourced) ||
                (source.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.ValueEquals("file"u8) &&
                 !source.TryGetProperty("file_id", out sourced)))
            {
                // A file source without an id is still a reference (to nothing): it is refused as a file not found.
                ids?.Add(sourced);
                found = true;
            }

            if (source.TryGetProperty("content", out var nested) && nested.ValueKind == JsonValueKind.Array)
            {
                foreach (var inner in nested.EnumerateArray())
                {
                    found |= Collect(inner, ids);
                }
            }
        }

        if (block.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
        {
            // tool_result (and any block with nested blocks).
            foreach (var inner in content.EnumerateArray())
            {
                found |= Collect(inner, ids);
            }
        }

        return found;
    }

    /// <summary>Every file id a request names, in <c>system</c> and in every message's content blocks.</summary>
    public static List<JsonElement> CollectAll(JsonElement root)
    {
        var ids = new List<JsonElement>();
        if (root.ValueKind != JsonValueKind.Object)
        {
            return ids;
        }

        if (root.TryGetProperty("system", out var system) && system.ValueKind == JsonValueKind.Array)
        {
            foreach (var block in system.EnumerateArray())
            {
                Collect(block, ids);
            }
        }

        if (root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content) &&
                    content.ValueKind == JsonValueKind.Array)
                {
                    foreach (var block in content.EnumerateArray())
                    {
                        Collect(block, ids);
                    }
                }
            }
        }

        return ids;
    }
}
