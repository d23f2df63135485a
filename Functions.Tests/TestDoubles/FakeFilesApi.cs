using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Qhaigc.Functions.Tests.TestDoubles;

/// <summary>
/// Anthropic's Files API on the fake upstream: uploads read as they arrive (small files kept, large ones counted and
/// dropped, so a test's hundreds of megabytes never sit in memory), downloads, deletions and a list of every file on
/// the account. It records each call and notices an upload whose sender went away mid-body.
/// </summary>
public sealed class FakeFilesApi
{
    /// <summary>Files up to this size are kept, for downloads; larger ones are only counted.</summary>
    public const int MaxKeptBytes = 4 * 1024 * 1024;

    private readonly ConcurrentDictionary<string, FakeFile> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private readonly TaskCompletionSource _uploadAborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _uploadBytes;
    private int _counter;

    /// <summary>Every files call, in order (bodies left out).</summary>
    public IReadOnlyList<ReceivedRequest> Received => [.. _received];

    /// <summary>The files the account holds now.</summary>
    public IReadOnlyDictionary<string, FakeFile> Files => _files;

    /// <summary>Bytes of file content received so far, by every upload, finished or not.</summary>
    public long UploadBytesReceived => Interlocked.Read(ref _uploadBytes);

    /// <summary>Completes when an upload's sender (the gateway) went away before the body ended.</summary>
    public Task UploadAborted => _uploadAborted.Task;

    public void Map(WebApplication app)
    {
        app.MapPost("/v1/files", UploadAsync);
        app.MapGet("/v1/files", ListAsync);
        app.MapGet("/v1/files/{id}/content", DownloadAsync);
        app.MapDelete("/v1/files/{id}", DeleteAsync);
    }

    private void Record(HttpContext context) => _received.Enqueue(new ReceivedRequest(
        context.Request.Method + " " + context.Request.Path + context.Request.QueryString,
        context.Request.Headers.ToDictionary(static h => h.Key.ToLowerInvariant(), static h => h.Value.ToString()), []));

    private async Task UploadAsync(HttpContext context)
    {
        Record(context);
        var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(context.Request.ContentType).Boundary).Value!;
        var reader = new MultipartReader(boundary, context.Request.Body);
        try
        {
            while (await reader.ReadNextSectionAsync(context.RequestAborted) is { } section)
            {
                var disposition = ContentDispositionHeaderValue.Parse(section.ContentDisposition);
                if (HeaderUtilities.RemoveQuotes(disposition.Name).Value != "file")
                {
                    continue;
                }

                using var kept = new MemoryStream();
                var buffer = new byte[64 * 1024];
                long size = 0;
                int read;
                while ((read = await section.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
                {
                    size += read;
                    Interlocked.Add(ref _uploadBytes, read);
                    if (size <= MaxKeptBytes)
                    {
                        kept.Write(buffer, 0, read);
                    }
                }

                var id = "file_011Fake" + Interlocked.Increment(ref _counter).ToString("D6", CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..8];
                var file = new FakeFile(id, HeaderUtilities.RemoveQuotes(disposition.FileName).Value ?? "file", section.ContentType ?? "application/octet-stream",
                    size, size <= MaxKeptBytes ? kept.ToArray() : null);
                _files[id] = file;
                context.Response.ContentType = "application/json";
                context.Response.Headers["request-id"] = "req_upstream_files";
                await context.Response.WriteAsync(FileJson(file));
                return;
            }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException || context.RequestAborted.IsCancellationRequested)
        {
            _uploadAborted.TrySetResult();
            return;
        }

        context.Response.StatusCode = 400;
        await context.Response.WriteAsync("""{"type":"error","error":{"type":"invalid_request_error","message":"file: Field required"}}""");
    }

    private async Task ListAsync(HttpContext context)
    {
        Record(context);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("{\"data\":[" + string.Join(',', _files.Values.Select(FileJson)) + "],\"has_more\":false}");
    }

    private async Task DownloadAsync(HttpContext context, string id)
    {
        Record(context);
        if (!_files.TryGetValue(id, out var file) || file.Content is null)
        {
            await NotFoundAsync(context, id);
            return;
        }

        context.Response.ContentType = file.MimeType;
        context.Response.ContentLength = file.Content.Length;
        await context.Response.Body.WriteAsync(file.Content);
    }

    private async Task DeleteAsync(HttpContext context, string id)
    {
        Record(context);
        if (!_files.TryRemove(id, out _))
        {
            await NotFoundAsync(context, id);
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("{\"id\":\"" + id + "\",\"type\":\"file_deleted\"}");
    }

    private static async Task NotFoundAsync(HttpContext context, string id)
    {
        context.Response.StatusCode = 404;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("""{"type":"error","error":{"type":"not_found_error","message":"File not found: """ + id + "\"}}");
    }

    private static string FileJson(FakeFile file)
    {
        using var buffer = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", file.Id);
            writer.WriteString("type", "file");
            writer.WriteString("filename", file.Filename);
            writer.WriteString("mime_type", file.MimeType);
            writer.WriteNumber("size_bytes", file.SizeBytes);
            writer.WriteString("created_at", "2026-12-07T03:00:00.000000Z");
            writer.WriteBoolean("downloadable", true);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}

/// <summary>A file on the fake account; its content when it was small enough to keep.</summary>
public sealed record FakeFile(string Id, string Filename, string MimeType, long SizeBytes, byte[]? Content);
