using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Ownership;

namespace Qhaigc.Functions.Files;

/// <summary>
/// A file object (Anthropic's <c>{"id", "type": "file", "filename", "mime_type", "size_bytes", "created_at",
/// "downloadable"}</c>) as the upstream answered it at upload, kept as the owned object's state: what a retrieve and
/// a list answer, with no upstream call (a file's metadata never changes). See docs/files.md#endpoints.
/// </summary>
public static class FileObjects
{
    /// <summary>The longest file name kept when an upstream's object is too long to keep whole.</summary>
    private const int MaxFilenameLength = 1024;

    /// <summary>The id and size an upload's answer gives, or null when it is not a file object with a usable id.</summary>
    public static (string Id, long? SizeBytes)? Read(byte[] json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String ||
                !OwnedObjectIds.IsValid(id.GetString()))
            {
                return null;
            }

            long? size = root.TryGetProperty("size_bytes", out var sizeElement) && sizeElement.TryGetInt64(out var bytes) ? bytes : null;
            return (id.GetString()!, size);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The state kept for a file: the object as answered, or, past the state's limit, its known fields with the name cut.</summary>
    public static string StateOf(byte[] json)
    {
        var text = Encoding.UTF8.GetString(json);
        if (text.Length <= OwnedObjectEntity.MaxStateLength)
        {
            return text;
        }

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var filename = root.TryGetProperty("filename", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString()! : "file";
        return Encoding.UTF8.GetString(LocalFiles.FileObject(
            root.GetProperty("id").GetString()!,
            filename.Length > MaxFilenameLength ? filename[..MaxFilenameLength] : filename,
            root.TryGetProperty("mime_type", out var mime) && mime.ValueKind == JsonValueKind.String ? mime.GetString()! : "application/octet-stream",
            root.TryGetProperty("size_bytes", out var size) && size.TryGetInt64(out var bytes) ? bytes : 0,
            root.TryGetProperty("created_at", out var created) && created.TryGetDateTimeOffset(out var at) ? at : DateTimeOffset.UnixEpoch));
    }

    /// <summary>Writes a kept file object as it is (it was checked to be a JSON object when it was kept).</summary>
    public static void Write(Utf8JsonWriter writer, OwnedObject file)
    {
        if (file.State is { Length: > 0 } state)
        {
            writer.WriteRawValue(state, skipInputValidation: false);
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("id"u8, file.Id);
        writer.WriteString("type"u8, "file"u8);
        writer.WriteEndObject();
    }
}
