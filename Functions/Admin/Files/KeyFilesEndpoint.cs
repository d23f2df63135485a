using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Files;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Translation;

namespace Qhaigc.Functions.Admin.Files;

/// <summary>
/// The operator's view of a key's files (docs/admin-api.md#files): every file a key owns, whether or not the key still
/// exists (<c>GET /manage/keys/{id}/files</c>), and the deletion of one (<c>DELETE /manage/keys/{id}/files/{fileId}</c>),
/// at the deployment that holds it and in the objects table, so a deleted key's files need not stay on the upstream
/// account for ever.
/// </summary>
public sealed partial class KeyFilesEndpoint(
    AdminAuthorization admin, IOwnedObjectStore objects, FileDeployments deployments, ILogger<KeyFilesEndpoint> logger)
{
    /// <summary><c>GET /manage/keys/{id}/files</c>.</summary>
    public Task<IResult> HandleFilesAsync(HttpContext context, string id) => admin.RunAsync(context, "GET", method => method switch
    {
        "GET" => ListAsync(id, context.RequestAborted),
        _ => null,
    });

    /// <summary><c>DELETE /manage/keys/{id}/files/{fileId}</c>.</summary>
    public Task<IResult> HandleFileAsync(HttpContext context, string id, string fileId) => admin.RunAsync(context, "GET, DELETE", method => method switch
    {
        "GET" => GetAsync(id, fileId, context.RequestAborted),
        "DELETE" => DeleteAsync(id, fileId, context.RequestAborted),
        _ => null,
    });

    private async Task<IResult> ListAsync(string keyId, CancellationToken cancellationToken)
    {
        var files = new List<OwnedObject>();
        await foreach (var file in objects.OwnedByAsync(keyId, OwnedKinds.File, cancellationToken))
        {
            files.Add(file);
        }

        return new JsonBodyResult(JsonValues.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("data"u8);
            foreach (var file in files)
            {
                WriteFile(writer, file);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }, 1024));
    }

    private async Task<IResult> GetAsync(string keyId, string fileId, CancellationToken cancellationToken) =>
        await objects.FindAsync(keyId, OwnedKinds.File, fileId, cancellationToken) is { } file
            ? new JsonBodyResult(JsonValues.Write(writer => WriteFile(writer, file)))
            : new ErrorResult(FileReferences.NotFound(fileId));

    private async Task<IResult> DeleteAsync(string keyId, string fileId, CancellationToken cancellationToken)
    {
        if (await objects.FindAsync(keyId, OwnedKinds.File, fileId, cancellationToken) is not { } file)
        {
            return new ErrorResult(FileReferences.NotFound(fileId));
        }

        var (deleted, error) = await FilesHandler.DeleteAsync(objects, deployments, file, FileCallHeaders.Operator, cancellationToken);
        if (error is not null)
        {
            return new ErrorResult(error);
        }

        Log.FileDeleted(logger, keyId, file.Id, file.Upstream);
        return new JsonBodyResult(deleted!);
    }

    /// <summary>The file object, with the deployment that holds it and when the gateway recorded it.</summary>
    private static void WriteFile(System.Text.Json.Utf8JsonWriter writer, OwnedObject file)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, file.Id);
        writer.WriteString("upstream"u8, file.Upstream);
        writer.WriteString("recorded_at"u8, file.CreatedAt);
        writer.WritePropertyName("file"u8);
        FileObjects.Write(writer, file);
        writer.WriteEndObject();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5021, Level = LogLevel.Information, Message = "Admin deleted file {FileId} of key {KeyId} at upstream {Upstream}")]
        public static partial void FileDeleted(ILogger logger, string keyId, string fileId, string upstream);
    }
}
