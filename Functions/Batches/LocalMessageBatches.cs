using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Translation;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// Message batches on the built-in <c>local</c> upstream (docs/batches.md#local-batches): each request is answered by
/// the echo a <c>/v1/messages</c> call to <c>local</c> gives (<see cref="LocalUpstream.Compose"/>), written as the
/// batch is created to a results file; the batch stays <c>in_progress</c> for <c>Gateway:Local:BatchDelay</c>, then
/// ends. Batches live in this process (and their results in its temporary folder): another instance does not see them.
/// </summary>
public sealed class LocalMessageBatches(IOptions<GatewayOptions> options, TimeProvider time) : IMessageBatches
{
    private readonly ConcurrentDictionary<string, LocalBatch> _batches = new(StringComparer.Ordinal);
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "qhaigc-local-batches");

    public async Task<BatchReply> CreateAsync(Stream body, long length, BatchCallHeaders headers, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_folder);
        var id = Ids.New("msgbatch_");
        var path = Path.Combine(_folder, id + ".jsonl");
        var count = 0;
        var reader = new BatchBodyReader(PipeReader.Create(body), long.MaxValue, long.MaxValue, Timeout.InfiniteTimeSpan);
        await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
        {
            while (await reader.NextAsync(cancellationToken) is { Kind: BatchBodyItemKind.Request, Bytes: { } bytes })
            {
                using var parts = BatchRequestParts.Read(bytes, count, out var error)
                                  ?? throw new InvalidOperationException("A batch reached the local upstream unvalidated: " + error!.Message);
                using var request = MessagesRequestValidator.Parse(parts.ParamsBytes.ToArray(), out _)
                                    ?? throw new InvalidOperationException("A batch request reached the local upstream unvalidated.");
                var message = LocalUpstream.WriteMessage(LocalUpstream.Compose(request), request.Model);
                await WriteLineAsync(file, parts.CustomId, "succeeded", message, cancellationToken);
                count++;
            }
        }

        var now = time.GetUtcNow();
        var batch = new LocalBatch(id, path, count, now, now + options.Value.Local.BatchDelay);
        _batches[id] = batch;
        return BatchReply.Of(Write(batch, now));
    }

    public Task<BatchReply> RetrieveAsync(string id, BatchCallHeaders headers, CancellationToken cancellationToken) =>
        Task.FromResult(_batches.TryGetValue(id, out var batch) ? BatchReply.Of(Write(batch, time.GetUtcNow())) : NotFound());

    public async Task<BatchReply> CancelAsync(string id, BatchCallHeaders headers, CancellationToken cancellationToken)
    {
        if (!_batches.TryGetValue(id, out var batch))
        {
            return NotFound();
        }

        var now = time.GetUtcNow();
        await batch.Gate.WaitAsync(cancellationToken);
        try
        {
            if (batch.CanceledAt is null && now < batch.EndsAt)
            {
                // Every request not yet answered is canceled: here, all of them.
                await CancelResultsAsync(batch.ResultsPath, cancellationToken);
                batch.CanceledAt = now;
                return BatchReply.Of(Write(batch, now, canceling: true));
            }
        }
        finally
        {
            batch.Gate.Release();
        }

        return BatchReply.Of(Write(batch, now));
    }

    public Task<BatchReply> DeleteAsync(string id, BatchCallHeaders headers, CancellationToken cancellationToken)
    {
        if (!_batches.TryGetValue(id, out var batch))
        {
            return Task.FromResult(NotFound());
        }

        if (!batch.HasEnded(time.GetUtcNow()))
        {
            return Task.FromResult(BatchReply.Failed(ApiError.InvalidRequest(
                "Message batches can only be deleted once they've finished processing. If you'd like to delete an in-progress batch, you must first cancel it.")));
        }

        _batches.TryRemove(id, out _);
        File.Delete(batch.ResultsPath);
        return Task.FromResult(BatchReply.Of(JsonValues.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, id);
            writer.WriteString("type"u8, "message_batch_deleted"u8);
            writer.WriteEndObject();
        })));
    }

    public Task<BatchResultsReply> ResultsAsync(string id, BatchCallHeaders headers, CancellationToken cancellationToken)
    {
        if (!_batches.TryGetValue(id, out var batch))
        {
            return Task.FromResult(BatchResultsReply.Failed(NotFound().Error!));
        }

        if (!batch.HasEnded(time.GetUtcNow()))
        {
            return Task.FromResult(BatchResultsReply.Failed(ApiError.InvalidRequest("The message batch has not ended: its results are not available yet.")));
        }

        Stream file = new FileStream(batch.ResultsPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous);
        return Task.FromResult(new BatchResultsReply(file, "application/binary", null));
    }

    private static BatchReply NotFound() => BatchReply.Failed(ApiError.From(ApiErrorKind.NotFound, "The message batch was not found."));

    private static async Task WriteLineAsync(Stream file, string customId, string type, byte[]? message, CancellationToken cancellationToken)
    {
        var line = JsonValues.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("custom_id"u8, customId);
            writer.WriteStartObject("result"u8);
            writer.WriteString("type"u8, type);
            if (message is not null)
            {
                writer.WritePropertyName("message"u8);
                writer.WriteRawValue(message, skipInputValidation: true);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }, 256 + (message?.Length ?? 0));
        await file.WriteAsync(line, cancellationToken);
        await file.WriteAsync("\n"u8.ToArray(), cancellationToken);
    }

    /// <summary>Rewrites a batch's results as canceled, line by line.</summary>
    private static async Task CancelResultsAsync(string path, CancellationToken cancellationToken)
    {
        var canceled = path + ".canceled";
        using (var reader = new StreamReader(path))
        await using (var file = new FileStream(canceled, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
        {
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                using var document = JsonDocument.Parse(line);
                await WriteLineAsync(file, document.RootElement.GetProperty("custom_id").GetString()!, "canceled", null, cancellationToken);
            }
        }

        File.Move(canceled, path, overwrite: true);
    }

    private static byte[] Write(LocalBatch batch, DateTimeOffset now, bool canceling = false)
    {
        var ended = !canceling && batch.HasEnded(now);
        var endedAt = batch.CanceledAt ?? batch.EndsAt;
        return JsonValues.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, batch.Id);
            writer.WriteString("type"u8, "message_batch"u8);
            writer.WriteString("processing_status"u8, canceling ? "canceling" : ended ? "ended" : "in_progress");
            writer.WriteStartObject("request_counts"u8);
            writer.WriteNumber("processing"u8, ended ? 0 : batch.Count);
            writer.WriteNumber("succeeded"u8, ended && batch.CanceledAt is null ? batch.Count : 0);
            writer.WriteNumber("errored"u8, 0);
            writer.WriteNumber("canceled"u8, ended && batch.CanceledAt is not null ? batch.Count : 0);
            writer.WriteNumber("expired"u8, 0);
            writer.WriteEndObject();
            WriteTime(writer, "ended_at"u8, ended ? endedAt : null);
            WriteTime(writer, "created_at"u8, batch.CreatedAt);
            WriteTime(writer, "expires_at"u8, batch.CreatedAt.AddDays(1));
            WriteTime(writer, "archived_at"u8, null);
            WriteTime(writer, "cancel_initiated_at"u8, batch.CanceledAt);
            if (ended)
            {
                // The gateway shows its own results_url in place of this one (docs/batches.md#results_url).
                writer.WriteString("results_url"u8, "local:" + batch.Id);
            }
            else
            {
                writer.WriteNull("results_url"u8);
            }

            writer.WriteEndObject();
        }, 512);
    }

    private static void WriteTime(Utf8JsonWriter writer, ReadOnlySpan<byte> name, DateTimeOffset? at)
    {
        if (at is { } value)
        {
            writer.WriteString(name, MessageBatchObject.Timestamp(value));
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private sealed class LocalBatch(string id, string resultsPath, int count, DateTimeOffset createdAt, DateTimeOffset endsAt)
    {
        public string Id { get; } = id;

        public string ResultsPath { get; } = resultsPath;

        public int Count { get; } = count;

        public DateTimeOffset CreatedAt { get; } = createdAt;

        public DateTimeOffset EndsAt { get; } = endsAt;

        public DateTimeOffset? CanceledAt { get; set; }

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public bool HasEnded(DateTimeOffset now) => CanceledAt is not null || now >= EndsAt;
    }
}
