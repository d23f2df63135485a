using System.Globalization;
using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Translation;

namespace Qhaigc.Functions.Files;

/// <summary>
/// The <c>local</c> upstream's Files API over <see cref="LocalFileStore"/>: the multipart body is read section by
/// section as it arrives and the <c>file</c> part streamed into a blob, so no secret and no Anthropic account is needed
/// to try files (docs/files.md#local-files). Its file objects have Anthropic's shape; unlike Anthropic's, every file
/// can be downloaded.
/// </summary>
public sealed class LocalFiles(LocalFileStore store, TimeProvider time) : IUpstreamFiles
{
    public async Task<UpstreamFileAnswer> UploadAsync(FileUpload upload, FileCallHeaders headers, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(upload.ContentType, out var mediaType) ||
            HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } boundary)
        {
            return UpstreamFileAnswer.Failed(ApiError.InvalidRequest("The body must be multipart/form-data with a boundary."));
        }

        try
        {
            var reader = new MultipartReader(boundary, upload.Body);
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) ||
                    !HeaderUtilities.RemoveQuotes(disposition.Name).Equals("file", StringComparison.Ordinal))
                {
                    await section.Body.CopyToAsync(Stream.Null, cancellationToken);
                    continue;
                }

                var id = Ids.New("file_");
                var filename = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
                var contentType = string.IsNullOrWhiteSpace(section.ContentType) ? "application/octet-stream" : section.ContentType;
                var blob = await store.BlobAsync(id, cancellationToken);
                var counted = new MeteredStream(section.Body);
                await blob.UploadAsync(counted, new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = contentType } }, cancellationToken);
                return UpstreamFileAnswer.OfJson(FileObject(id, filename ?? "file", contentType, counted.BytesRead, time.GetUtcNow()));
            }
        }
        catch (Exception exception) when (FindTooLarge(exception))
        {
            return UpstreamFileAnswer.OverLimit;
        }
        catch (Exception exception) when (cancellationToken.IsCancellationRequested ||
                                          exception is Microsoft.AspNetCore.Http.BadHttpRequestException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            return UpstreamFileAnswer.Left;
        }
        catch (InvalidDataException)
        {
            return UpstreamFileAnswer.Failed(ApiError.InvalidRequest("The multipart body could not be read."));
        }
        catch (Exception exception) when (exception is RequestFailedException or AggregateException)
        {
            return StorageUnavailable;
        }

        return UpstreamFileAnswer.Failed(ApiError.InvalidRequest("file: Field required"));
    }

    /// <summary>The blob service could not be reached or refused the gateway: a retryable <c>529</c>, as for the tables.</summary>
    private static UpstreamFileAnswer StorageUnavailable =>
        UpstreamFileAnswer.Failed(ApiError.From(ApiErrorKind.StorageUnavailable, "File storage is temporarily unavailable; please retry."));

    public async Task<UpstreamFileAnswer> DownloadAsync(string upstreamId, FileCallHeaders headers, CancellationToken cancellationToken)
    {
        try
        {
            var blob = await store.BlobAsync(upstreamId, cancellationToken);
            var download = await blob.DownloadStreamingAsync(cancellationToken: cancellationToken);
            var result = download.Value;
            return UpstreamFileAnswer.OfContent(result.Content, result.Details.ContentType, result.Details.ContentLength, result);
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            return UpstreamFileAnswer.Failed(ApiError.From(ApiErrorKind.NotFound, "File not found."));
        }
        catch (Exception exception) when (exception is RequestFailedException or AggregateException && !cancellationToken.IsCancellationRequested)
        {
            return StorageUnavailable;
        }
    }

    public async Task<UpstreamFileAnswer> DeleteAsync(string upstreamId, FileCallHeaders headers, CancellationToken cancellationToken)
    {
        try
        {
            var blob = await store.BlobAsync(upstreamId, cancellationToken);
            return await blob.DeleteIfExistsAsync(cancellationToken: cancellationToken) is { Value: true }
                ? UpstreamFileAnswer.OfJson(DeletedObject(upstreamId))
                : UpstreamFileAnswer.Failed(ApiError.From(ApiErrorKind.NotFound, "File not found."));
        }
        catch (Exception exception) when (exception is RequestFailedException or AggregateException && !cancellationToken.IsCancellationRequested)
        {
            return StorageUnavailable;
        }
    }

    /// <summary>A file object in Anthropic's shape (docs/files.md#endpoints).</summary>
    public static byte[] FileObject(string id, string filename, string mimeType, long sizeBytes, DateTimeOffset createdAt) => JsonValues.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, id);
        writer.WriteString("type"u8, "file"u8);
        writer.WriteString("filename"u8, filename);
        writer.WriteString("mime_type"u8, mimeType);
        writer.WriteNumber("size_bytes"u8, sizeBytes);
        writer.WriteString("created_at"u8, createdAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
        writer.WriteBoolean("downloadable"u8, true);
        writer.WriteEndObject();
    });

    /// <summary>Anthropic's answer to a deletion.</summary>
    public static byte[] DeletedObject(string id) => JsonValues.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, id);
        writer.WriteString("type"u8, "file_deleted"u8);
        writer.WriteEndObject();
    });

    private static bool FindTooLarge(Exception exception)
    {
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is FileTooLargeException)
            {
                return true;
            }
        }

        return false;
    }
}
