using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Translation;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Files;

/// <summary>
/// The Files API (docs/files.md), in both hosting modes: <c>POST /v1/files</c>, <c>GET /v1/files</c>,
/// <c>GET /v1/files/{id}</c>, <c>GET /v1/files/{id}/content</c>, <c>DELETE /v1/files/{id}</c>. Each call: the key,
/// <c>anthropic-version</c>, then the operation; a file belongs to the key that uploaded it (the objects table), and any
/// other key is answered exactly as for a file that does not exist. Every call leaves a usage record
/// (<c>files.*</c>, with its size in bytes and never the file's name).
/// </summary>
public sealed partial class FilesHandler(
    ApiKeyAuthenticator authenticator,
    IOwnedObjectStore objects,
    FileDeployments deployments,
    CallPrologue prologue,
    IUsageSink usage,
    RequestRate rate,
    AdmissionService admission,
    TimeProvider time,
    IOptions<GatewayOptions> options,
    ILogger<FilesHandler> logger)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 1000;

    /// <summary>What <c>next_page</c> puts before the last id of a page (an opaque cursor to the client).</summary>
    private const string PagePrefix = "page_";

    private readonly long _maxUploadBytes = options.Value.Files.MaxUploadBytes;

    /// <summary>The usage record endpoints of the file operations.</summary>
    public static class Endpoints
    {
        public const string Upload = "files.upload";
        public const string List = "files.list";
        public const string Retrieve = "files.retrieve";
        public const string Download = "files.download";
        public const string Delete = "files.delete";

        public static bool IsFileOperation(string endpoint) => endpoint.StartsWith("files.", StringComparison.Ordinal);

        /// <summary>The operation's name in <c>Gateway:Files:Prices</c>: the endpoint less <c>files.</c>.</summary>
        public static string Operation(string endpoint) => endpoint["files.".Length..];
    }

    /// <summary><c>POST /v1/files</c>: the multipart body streamed to the deployment that takes uploads as it arrives.</summary>
    public async Task<IResult> HandleUploadAsync(HttpContext context)
    {
        var (call, refused) = await BeginAsync(context, Endpoints.Upload);
        if (call is null)
        {
            return refused!;
        }

        var request = context.Request;
        RequestBody.LiftServerLimit(request);
        if (request.ContentLength is { } declared && declared > _maxUploadBytes)
        {
            return Refuse(call, MessagesRequestReader.TooLarge(_maxUploadBytes));
        }

        if (request.ContentType is not { } contentType || !contentType.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return Refuse(call, ApiError.InvalidRequest("Content-Type: the body must be multipart/form-data with a 'file' part."));
        }

        if (deployments.ForUpload is not { Files: { } files } target)
        {
            return Refuse(call, ApiError.InvalidRequest("This gateway has no upstream that can hold files."));
        }

        // A key at its file limits is refused before anything goes upstream (docs/files.md#how-many-files-a-key-holds):
        // at its count, or with no room for the smallest file this body can hold.
        var limits = admission.LimitsOf(call.Key);
        var quota = new FileQuota(limits?.MaxFiles, limits?.MaxFileBytes);
        var bodyLimit = _maxUploadBytes;
        try
        {
            if (!quota.IsNone)
            {
                var held = await objects.FileHoldingsAsync(call.Key.Id, context.RequestAborted);
                if (held.Count >= quota.MaxFiles)
                {
                    return Refuse(call, TooManyFiles(quota.MaxFiles.Value));
                }

                if (quota.MaxBytes is { } maxBytes)
                {
                    var room = Math.Max(0, maxBytes - held.Bytes);
                    if (request.ContentLength is { } length && length - FilesOptions.MultipartFramingBytes > room)
                    {
                        return Refuse(call, TooManyBytes(maxBytes));
                    }

                    // A body longer than the room left and the framing cannot hold a file that fits: cut it there.
                    bodyLimit = Math.Min(bodyLimit, room + FilesOptions.MultipartFramingBytes);
                }
            }
        }
        catch (StorageUnavailableException)
        {
            return Refuse(call, ApiError.From(ApiErrorKind.StorageUnavailable, "Storage is temporarily unavailable; please retry."));
        }

        call.Record.Upstream = target.Name;
        var body = new MeteredStream(request.Body, bodyLimit);
        using var answer = await files.UploadAsync(new FileUpload(body, contentType, request.ContentLength), call.Headers, context.RequestAborted);
        call.Record.Bytes = body.BytesRead;
        call.Record.UpstreamRequestId = answer.UpstreamRequestId;
        if (answer.ClientLeft)
        {
            Log.UploadCut(logger, call.Record.RequestId, body.BytesRead);
            call.Record.Finish(499, UsageState.Cancelled);
            return Results.Empty;
        }

        if (answer.TooLarge)
        {
            return Refuse(call, bodyLimit < _maxUploadBytes ? TooManyBytes(quota.MaxBytes!.Value) : MessagesRequestReader.TooLarge(_maxUploadBytes));
        }

        if (answer.Error is { } error)
        {
            return Refuse(call, error);
        }

        if (FileObjects.Read(answer.Json!) is not var (id, size))
        {
            return Refuse(call, new ApiError(502, ErrorTypes.Api, "The upstream answered an upload with no file id."));
        }

        var owned = new OwnedObject
        {
            Kind = OwnedKinds.File, Id = id, OwnerKeyId = call.Key.Id, Upstream = target.Name, UpstreamId = id, CreatedAt = time.GetUtcNow(),
            State = FileObjects.StateOf(answer.Json!), Bytes = size ?? body.BytesRead,
        };
        try
        {
            // Not the client's token: a file the upstream stored must be owned, whether or not the client stays.
            var added = await objects.AddFileAsync(owned, quota, CancellationToken.None);
            switch (added)
            {
                case OwnedAdd.Exists:
                    return Refuse(call, new ApiError(502, ErrorTypes.Api, "The upstream answered an upload with the id of a file already recorded."));
                case OwnedAdd.Full or OwnedAdd.OverBytes:
                    // Uploads sent together passed the check above, and the check cannot know the file's size exactly;
                    // the count, kept with the files, let no more in: the file is taken back.
                    using (await files.DeleteAsync(id, FileCallHeaders.Operator, CancellationToken.None))
                    {
                        return Refuse(call, added == OwnedAdd.Full ? TooManyFiles(quota.MaxFiles!.Value) : TooManyBytes(quota.MaxBytes!.Value));
                    }
            }
        }
        catch (StorageUnavailableException)
        {
            // Nobody could ever reach the file: take it back from the upstream rather than leave it there unowned.
            using var undo = await files.DeleteAsync(id, FileCallHeaders.Operator, CancellationToken.None);
            return Refuse(call, ApiError.From(ApiErrorKind.StorageUnavailable, "Storage is temporarily unavailable; please retry."));
        }

        call.Record.Bytes = size ?? body.BytesRead;
        return new JsonBodyResult(answer.Json!, call.Record);
    }

    /// <summary><c>GET /v1/files</c>: the key's own files, newest first, in Anthropic's paging, from the objects table.</summary>
    public async Task<IResult> HandleListAsync(HttpContext context)
    {
        var (call, refused) = await BeginAsync(context, Endpoints.List);
        if (call is null)
        {
            return refused!;
        }

        var query = context.Request.Query;
        var limit = DefaultLimit;
        if (query.TryGetValue("limit", out var limitText) &&
            (!int.TryParse(limitText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            return Refuse(call, ApiError.InvalidRequest($"limit: Input should be an integer between 1 and {MaxLimit}"));
        }

        var beforeId = NullIfEmpty(query["before_id"].ToString());
        var afterId = NullIfEmpty(query["after_id"].ToString());
        if (NullIfEmpty(query["page"].ToString()) is { } pageToken)
        {
            // The SDKs' page cursor (next_page, below): the page after the file it names.
            afterId ??= pageToken.StartsWith(PagePrefix, StringComparison.Ordinal) ? pageToken[PagePrefix.Length..] : pageToken;
        }

        if (beforeId is not null && afterId is not null)
        {
            return Refuse(call, ApiError.InvalidRequest("before_id and after_id cannot both be given."));
        }

        OwnedPage page;
        try
        {
            // A cursor that names no file of the key's (another key's, or none) is a page with nothing in it.
            page = await objects.ListAsync(call.Key.Id, OwnedKinds.File, limit, beforeId, afterId, context.RequestAborted) ?? new OwnedPage([], false);
        }
        catch (StorageUnavailableException)
        {
            return Refuse(call, ApiError.From(ApiErrorKind.StorageUnavailable, "Storage is temporarily unavailable; please retry."));
        }

        var body = JsonValues.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("data"u8);
            foreach (var file in page.Items)
            {
                FileObjects.Write(writer, file);
            }

            writer.WriteEndArray();
            writer.WriteBoolean("has_more"u8, page.HasMore);
            ModelsHandler.WriteId(writer, "first_id"u8, page.FirstId);
            ModelsHandler.WriteId(writer, "last_id"u8, page.LastId);
            ModelsHandler.WriteId(writer, "next_page"u8, page.HasMore && beforeId is null && page.LastId is { } last ? PagePrefix + last : null);
            writer.WriteEndObject();
        }, 1024);
        return new JsonBodyResult(body, call.Record);
    }

    /// <summary><c>GET /v1/files/{id}</c>: the file object kept when it was uploaded.</summary>
    public async Task<IResult> HandleRetrieveAsync(HttpContext context, string id)
    {
        var (call, refused) = await BeginAsync(context, Endpoints.Retrieve);
        if (call is null)
        {
            return refused!;
        }

        var (file, notFound) = await FindAsync(call, id, context.RequestAborted);
        if (file is null)
        {
            return notFound!;
        }

        call.Record.Upstream = file.Upstream;
        return new JsonBodyResult(JsonValues.Write(writer => FileObjects.Write(writer, file)), call.Record);
    }

    /// <summary><c>GET /v1/files/{id}/content</c>: the file's bytes, streamed from the deployment that holds it.</summary>
    public async Task<IResult> HandleDownloadAsync(HttpContext context, string id)
    {
        var (call, refused) = await BeginAsync(context, Endpoints.Download);
        if (call is null)
        {
            return refused!;
        }

        var (file, notFound) = await FindAsync(call, id, context.RequestAborted);
        if (file is null)
        {
            return notFound!;
        }

        call.Record.Upstream = file.Upstream;
        if (deployments.Holding(file.Upstream) is not { } files)
        {
            return Refuse(call, NoLongerHeld());
        }

        var answer = await files.DownloadAsync(file.UpstreamId, call.Headers, context.RequestAborted);
        call.Record.UpstreamRequestId = answer.UpstreamRequestId;
        if (answer.Content is null)
        {
            using (answer)
            {
                if (answer.ClientLeft)
                {
                    call.Record.Finish(499, UsageState.Cancelled);
                    return Results.Empty;
                }

                return Refuse(call, answer.Error is { Status: 404 } ? FileReferences.NotFound(id) : answer.Error!);
            }
        }

        return new FileContentResult(answer, call.Record);
    }

    /// <summary><c>DELETE /v1/files/{id}</c>: deleted at the deployment that holds it, then its record.</summary>
    public async Task<IResult> HandleDeleteAsync(HttpContext context, string id)
    {
        var (call, refused) = await BeginAsync(context, Endpoints.Delete);
        if (call is null)
        {
            return refused!;
        }

        var (file, notFound) = await FindAsync(call, id, context.RequestAborted);
        if (file is null)
        {
            return notFound!;
        }

        call.Record.Upstream = file.Upstream;
        call.Record.Bytes = FileObjects.Read(System.Text.Encoding.UTF8.GetBytes(file.State ?? "{}"))?.SizeBytes;
        var (deleted, error) = await DeleteAsync(objects, deployments, file, call.Headers, context.RequestAborted);
        return error is not null ? Refuse(call, error) : new JsonBodyResult(deleted!, call.Record);
    }

    /// <summary>
    /// Deletes a file at the deployment that holds it, then its record (for a key, and for the operator's
    /// <c>/manage</c>): a file the upstream no longer has is deleted all the same. The deletion object, or the error.
    /// </summary>
    public static async Task<(byte[]? Deleted, ApiError? Error)> DeleteAsync(
        IOwnedObjectStore objects, FileDeployments deployments, OwnedObject file, FileCallHeaders headers, CancellationToken cancellationToken)
    {
        if (deployments.Holding(file.Upstream) is not { } files)
        {
            return (null, NoLongerHeld());
        }

        using var answer = await files.DeleteAsync(file.UpstreamId, headers, cancellationToken);
        if (answer.ClientLeft || (answer.Error is { } error && error.Status != 404))
        {
            return (null, answer.Error ?? ApiError.From(ApiErrorKind.UpstreamUnavailable, "The client left."));
        }

        try
        {
            await objects.RemoveAsync(file.OwnerKeyId, OwnedKinds.File, file.Id, CancellationToken.None);
        }
        catch (StorageUnavailableException)
        {
            return (null, ApiError.From(ApiErrorKind.StorageUnavailable, "Storage is temporarily unavailable; please retry."));
        }

        return (answer.Json ?? LocalFiles.DeletedObject(file.Id), null);
    }

    private static ApiError TooManyFiles(long max) => ApiError.From(ApiErrorKind.Permission,
        $"This API key may hold at most {max} {(max == 1 ? "file" : "files")} at once; delete one to upload another.");

    private static ApiError TooManyBytes(long max) => ApiError.From(ApiErrorKind.Permission,
        $"This API key may hold at most {max.ToString("N0", CultureInfo.InvariantCulture)} bytes of files at once, " +
        "and this file does not fit; delete files to make room.");

    private static ApiError NoLongerHeld() =>
        new(502, ErrorTypes.Api, "The upstream that holds this file is no longer configured on this gateway.");

    /// <summary>The key, then <c>anthropic-version</c>; the call's usage record starts once the key is known.</summary>
    private async Task<(FileCall? Call, IResult? Refused)> BeginAsync(HttpContext context, string endpoint)
    {
        var gateway = GatewayContext.Of(context, time);
        var request = context.Request;
        var (key, authError) = await ClientAuthentication.AuthenticateAsync(authenticator, request, context.RequestAborted);
        if (key is null)
        {
            return (null, new ErrorResult(authError!));
        }

        var record = CallRecorders.Create(usage, gateway, key.Id, endpoint, request);
        var version = request.Headers[HeaderNames.AnthropicVersion].ToString();
        if (version.Length == 0)
        {
            return (null, prologue.Refuse(record, ApiError.InvalidRequest("anthropic-version: header is required"), ErrorFormat.Claude));
        }

        if (!AnthropicVersions.IsKnown(version))
        {
            return (null, prologue.Refuse(record, MessagesRequestReader.UnknownVersion(version), ErrorFormat.Claude));
        }

        // A priced operation is reserved against the key's spend cap (and counted in its rate) like a Messages call;
        // any other is counted in the key's rate alone (docs/files.md#usage-and-prices).
        if (await admission.AdmitFileOperationAsync(key, record.RequestId, Endpoints.Operation(endpoint)) is { } admitted)
        {
            AdmissionResponse.Apply(context.Response, admitted, RateLimitHeaderFormat.Anthropic);
            if (admitted.Refusal is { } refusal)
            {
                return (null, prologue.Refuse(record, refusal, ErrorFormat.Claude));
            }
        }
        else if (await rate.AdmitOperationAsync(key) is { } limited)
        {
            return (null, prologue.Refuse(record, limited, ErrorFormat.Claude));
        }

        return (new FileCall(key, record, FileCallHeaders.Of(request, version)), null);
    }

    /// <summary>The key's file, or the answer for one it may not see: the same for a missing id, another key's, or no id at all.</summary>
    private async Task<(OwnedObject? File, IResult? NotFound)> FindAsync(FileCall call, string id, CancellationToken cancellationToken)
    {
        try
        {
            if (OwnedObjectIds.IsValid(id) && await objects.FindAsync(call.Key.Id, OwnedKinds.File, id, cancellationToken) is { } file)
            {
                return (file, null);
            }
        }
        catch (StorageUnavailableException)
        {
            return (null, Refuse(call, ApiError.From(ApiErrorKind.StorageUnavailable, "Storage is temporarily unavailable; please retry.")));
        }

        return (null, Refuse(call, FileReferences.NotFound(id)));
    }

    private ErrorResult Refuse(FileCall call, ApiError error) => prologue.Refuse(call.Record, error, ErrorFormat.Claude);

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    /// <summary>A file call under way: its key, its usage record and the headers for the upstream.</summary>
    private sealed record FileCall(ApiKey Key, CallRecorder Record, FileCallHeaders Headers);

    private static partial class Log
    {
        [LoggerMessage(EventId = 2311, Level = LogLevel.Information, Message = "Call {RequestId}: the client left mid-upload after {Bytes} bytes; the upstream upload was cancelled")]
        public static partial void UploadCut(ILogger logger, string requestId, long bytes);
    }
}
