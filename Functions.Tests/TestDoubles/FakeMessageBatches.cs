using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Qhaigc.Functions.Tests.TestDoubles;

/// <summary>
/// Anthropic's Message Batches API on the fake upstream: create, retrieve, list, cancel, delete and results, with a
/// <c>results_url</c> that points at the fake itself, as the real API's points at api.anthropic.com. Each request is
/// answered with the recorded text message; a batch stays <c>in_progress</c> until <see cref="End"/> (or at once with
/// <see cref="EndAtOnce"/>). Every call must carry the upstream's own key.
/// </summary>
public sealed class FakeMessageBatches(Uri baseUrl, string upstreamKey)
{
    private readonly ConcurrentDictionary<string, FakeBatch> _batches = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();

    /// <summary>When true, a batch has ended as soon as it is created.</summary>
    public bool EndAtOnce { get; set; }

    /// <summary>Every batch call received (create bodies included).</summary>
    public IReadOnlyList<ReceivedRequest> Received => [.. _received];

    public int Count => _batches.Count;

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/messages/batches", CreateAsync);
        app.MapGet("/v1/messages/batches", List);
        app.MapGet("/v1/messages/batches/{id}", (HttpContext context, string id) => Answer(context, id, static batch => batch));
        app.MapPost("/v1/messages/batches/{id}/cancel", (HttpContext context, string id) => Answer(context, id, static batch =>
        {
            if (batch.Status == "in_progress")
            {
                batch.Status = "canceling";
                batch.CancelInitiatedAt = DateTimeOffset.UtcNow;
            }

            return batch;
        }));
        app.MapDelete("/v1/messages/batches/{id}", DeleteAsync);
        app.MapGet("/v1/messages/batches/{id}/results", ResultsAsync);
    }

    /// <summary>Ends a batch: its requests succeed, or, when it was being canceled, are canceled.</summary>
    public void End(string id)
    {
        var batch = _batches[id];
        batch.Status = "ended";
        batch.EndedAt = DateTimeOffset.UtcNow;
    }

    public bool Holds(string id) => _batches.ContainsKey(id);

    private async Task CreateAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        Record(context, body);
        if (!Authorized(context))
        {
            await ErrorAsync(context, 401, "authentication_error", "invalid x-api-key");
            return;
        }

        using var document = JsonDocument.Parse(body);
        var customIds = document.RootElement.GetProperty("requests").EnumerateArray()
            .Select(static r => r.GetProperty("custom_id").GetString()!).ToList();
        var batch = new FakeBatch("msgbatch_fake" + Guid.NewGuid().ToString("N")[..16], customIds, DateTimeOffset.UtcNow);
        if (EndAtOnce)
        {
            batch.Status = "ended";
            batch.EndedAt = batch.CreatedAt;
        }

        _batches[batch.Id] = batch;
        await WriteJsonAsync(context, Write(batch));
    }

    private async Task List(HttpContext context)
    {
        Record(context, []);
        var all = _batches.Values.OrderByDescending(static b => b.CreatedAt).ToList();
        await WriteJsonAsync(context, "{\"data\":[" + string.Join(',', all.Select(Write)) + "],\"has_more\":false,\"first_id\":null,\"last_id\":null}");
    }

    private async Task Answer(HttpContext context, string id, Func<FakeBatch, FakeBatch> change)
    {
        Record(context, []);
        if (!Authorized(context))
        {
            await ErrorAsync(context, 401, "authentication_error", "invalid x-api-key");
            return;
        }

        if (!_batches.TryGetValue(id, out var batch))
        {
            await ErrorAsync(context, 404, "not_found_error", "Upstream: no such batch");
            return;
        }

        await WriteJsonAsync(context, Write(change(batch)));
    }

    private async Task DeleteAsync(HttpContext context, string id)
    {
        Record(context, []);
        if (!_batches.TryGetValue(id, out var batch))
        {
            await ErrorAsync(context, 404, "not_found_error", "Upstream: no such batch");
            return;
        }

        if (batch.Status != "ended")
        {
            await ErrorAsync(context, 400, "invalid_request_error", "Upstream: cancel the batch before deleting it");
            return;
        }

        _batches.TryRemove(id, out _);
        await WriteJsonAsync(context, $$"""{"id":"{{id}}","type":"message_batch_deleted"}""");
    }

    private async Task ResultsAsync(HttpContext context, string id)
    {
        Record(context, []);
        if (!Authorized(context) || !_batches.TryGetValue(id, out var batch))
        {
            await ErrorAsync(context, 404, "not_found_error", "Upstream: no such batch");
            return;
        }

        if (batch.Status != "ended")
        {
            await ErrorAsync(context, 400, "invalid_request_error", "Upstream: the batch has not ended");
            return;
        }

        context.Response.ContentType = "application/binary";
        var message = Encoding.UTF8.GetString(Fixtures.Bytes("Anthropic/text.json"));
        foreach (var customId in batch.CustomIds)
        {
            var result = batch.CancelInitiatedAt is null
                ? "{\"custom_id\":\"" + customId + "\",\"result\":{\"type\":\"succeeded\",\"message\":" + message.Trim() + "}}"
                : "{\"custom_id\":\"" + customId + "\",\"result\":{\"type\":\"canceled\"}}";
            await context.Response.WriteAsync(result + "\n", context.RequestAborted);
        }
    }

    private void Record(HttpContext context, byte[] body) => _received.Enqueue(new ReceivedRequest(
        context.Request.Method + " " + context.Request.Path + context.Request.QueryString,
        context.Request.Headers.ToDictionary(static h => h.Key.ToLowerInvariant(), static h => h.Value.ToString()), body));

    private bool Authorized(HttpContext context) => context.Request.Headers["x-api-key"] == upstreamKey;

    private string Write(FakeBatch batch)
    {
        var ended = batch.Status == "ended";
        var canceled = ended && batch.CancelInitiatedAt is not null;
        var count = batch.CustomIds.Count;
        var resultsUrl = ended ? "\"" + baseUrl + "v1/messages/batches/" + batch.Id + "/results\"" : "null";
        return "{\"id\":\"" + batch.Id + "\",\"type\":\"message_batch\",\"processing_status\":\"" + batch.Status + "\"," +
               "\"request_counts\":{\"processing\":" + (ended ? 0 : count) + ",\"succeeded\":" + (ended && !canceled ? count : 0) +
               ",\"errored\":0,\"canceled\":" + (canceled ? count : 0) + ",\"expired\":0}," +
               "\"ended_at\":" + Time(batch.EndedAt) + ",\"created_at\":" + Time(batch.CreatedAt) + ",\"expires_at\":" + Time(batch.CreatedAt.AddDays(1)) +
               ",\"archived_at\":null,\"cancel_initiated_at\":" + Time(batch.CancelInitiatedAt) + ",\"results_url\":" + resultsUrl + "}";
    }

    private static string Time(DateTimeOffset? at) =>
        at is { } value ? "\"" + value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture) + "\"" : "null";

    private static async Task WriteJsonAsync(HttpContext context, string json)
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json, context.RequestAborted);
    }

    private static async Task ErrorAsync(HttpContext context, int status, string type, string message)
    {
        context.Response.StatusCode = status;
        await WriteJsonAsync(context, "{\"type\":\"error\",\"error\":{\"type\":\"" + type + "\",\"message\":\"" + message + "\"}}");
    }

    private sealed class FakeBatch(string id, IReadOnlyList<string> customIds, DateTimeOffset createdAt)
    {
        public string Id { get; } = id;

        public IReadOnlyList<string> CustomIds { get; } = customIds;

        public DateTimeOffset CreatedAt { get; } = createdAt;

        public string Status { get; set; } = "in_progress";

        public DateTimeOffset? EndedAt { get; set; }

        public DateTimeOffset? CancelInitiatedAt { get; set; }
    }
}
