using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Translation;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// The Message Batches API on <c>/v1/messages/batches</c> (docs/batches.md), for both hosting modes: every call starts
/// as a Messages call does (size, key, <c>anthropic-version</c>, errors in Claude's shape), then finds the batch among
/// the key's own (<see cref="IOwnedObjectStore"/>). Another key's batch, a deleted one and an id that is not an id are
/// all answered with the same <c>404</c> as an id that never existed. Every batch object shown carries the gateway's
/// own <c>results_url</c>.
/// </summary>
public sealed class MessageBatchesHandler(
    ApiKeyAuthenticator authenticator,
    BatchCreation creation,
    MessageBatchUpstreams upstreams,
    IOwnedObjectStore objects,
    BatchSettlement settlement,
    RequestRate rate,
    TimeProvider time)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 1000;

    /// <summary>How many unended batches of a listed page are refreshed from their upstreams at once.</summary>
    private const int RefreshParallelism = 4;

    /// <summary>What every batch that is not the key's is answered with: one wording, whatever the reason.</summary>
    public static readonly ApiError NotFound = ApiError.From(ApiErrorKind.NotFound, "message_batch_id: no message batch with this id was found.");

    private static readonly ApiError StorageDown = ApiError.From(ApiErrorKind.StorageUnavailable, "The batch store is temporarily unavailable; please retry.");

    /// <summary>A delete that would lose results not yet recorded: the client retries once settlement could read them.</summary>
    private static readonly ApiError ResultsNotRecorded = ApiError.From(
        ApiErrorKind.Overloaded, "The batch's results are being recorded for billing; please retry the delete shortly.");

    /// <summary><c>GET</c> and <c>POST /v1/messages/batches</c>: the key's batches, or a new one.</summary>
    public async Task<IResult> HandleBatchesAsync(HttpContext context)
    {
        var isCreate = HttpMethods.IsPost(context.Request.Method);
        if (isCreate && RequestBody.DeclaredTooLarge(context.Request, BatchBodyReader.MaxBodyBytes))
        {
            return new ErrorResult(BatchBodyReader.TooLarge(BatchBodyReader.MaxBodyBytes));
        }

        // A create counts as one request when its batch is admitted (docs/batches.md#billing), or when it is refused
        // before that (BatchCreation), not here as well.
        var call = await BeginAsync(context, countRequest: !isCreate);
        if (call.Refusal is { } refusal)
        {
            return refusal;
        }

        try
        {
            return isCreate
                ? await creation.CreateAsync(context, call.Key!, call.Headers!, GatewayBase(context.Request))
                : await ListAsync(context, call.Key!, call.Headers!);
        }
        catch (StorageUnavailableException)
        {
            return new ErrorResult(StorageDown);
        }
    }

    /// <summary><c>GET /v1/messages/batches/{id}</c>: the batch as its upstream describes it now.</summary>
    public Task<IResult> HandleRetrieveAsync(HttpContext context, string id) =>
        OnBatchAsync(context, id, static (batches, owned, headers, aborted) => batches.RetrieveAsync(owned.UpstreamId, headers, aborted));

    /// <summary><c>POST /v1/messages/batches/{id}/cancel</c>.</summary>
    public Task<IResult> HandleCancelAsync(HttpContext context, string id) =>
        OnBatchAsync(context, id, static (batches, owned, headers, aborted) => batches.CancelAsync(owned.UpstreamId, headers, aborted));

    /// <summary><c>DELETE /v1/messages/batches/{id}</c>.</summary>
    public Task<IResult> HandleDeleteAsync(HttpContext context, string id) =>
        OnBatchAsync(context, id, static (batches, owned, headers, aborted) => batches.DeleteAsync(owned.UpstreamId, headers, aborted), delete: true);

    /// <summary><c>GET /v1/messages/batches/{id}/results</c>: the upstream's JSON Lines, relayed as they arrive.</summary>
    public async Task<IResult> HandleResultsAsync(HttpContext context, string id)
    {
        var call = await BeginAsync(context);
        if (call.Refusal is { } refusal)
        {
            return refusal;
        }

        try
        {
            if (await FindAsync(call.Key!, id, context.RequestAborted) is not { } found)
            {
                return new ErrorResult(NotFound);
            }

            var reply = await found.Batches.ResultsAsync(found.Owned.UpstreamId, call.Headers!, context.RequestAborted);
            if (reply.Error is { } error)
            {
                reply.Dispose();
                return new ErrorResult(error.Status == 404 ? NotFound : error);
            }

            return new ResultsRelay(reply);
        }
        catch (StorageUnavailableException)
        {
            return new ErrorResult(StorageDown);
        }
    }

    private async Task<IResult> OnBatchAsync(
        HttpContext context, string id, Func<IMessageBatches, OwnedObject, BatchCallHeaders, CancellationToken, Task<BatchReply>> send, bool delete = false)
    {
        var call = await BeginAsync(context);
        if (call.Refusal is { } refusal)
        {
            return refusal;
        }

        var aborted = context.RequestAborted;
        try
        {
            if (await FindAsync(call.Key!, id, aborted) is not { } found)
            {
                return new ErrorResult(NotFound);
            }

            if (delete && found.Owned.Pending && await SettleBeforeDeleteAsync(found.Owned, aborted) is { } notYet)
            {
                return new ErrorResult(notYet);
            }

            var reply = await send(found.Batches, found.Owned, call.Headers!, aborted);
            if (reply.Error is { } error)
            {
                return new ErrorResult(error.Status == 404 ? NotFound : error);
            }

            if (delete)
            {
                await ForgetAsync(found.Owned, aborted);
                return new JsonBodyResult(reply.Body!);
            }

            await KeepAsync(found.Owned, reply.Body!, aborted);
            return new JsonBodyResult(MessageBatchObject.ForClient(reply.Body, GatewayBase(context.Request), found.Owned.Id));
        }
        catch (StorageUnavailableException)
        {
            return new ErrorResult(StorageDown);
        }
    }

    private async Task<IResult> ListAsync(HttpContext context, ApiKey key, BatchCallHeaders headers)
    {
        var query = context.Request.Query;
        var limit = DefaultLimit;
        if (query.TryGetValue("limit", out var limitText) &&
            (!int.TryParse(limitText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            return new ErrorResult(ApiError.InvalidRequest($"limit: Input should be an integer between 1 and {MaxLimit}"));
        }

        var beforeId = NullIfEmpty(query["before_id"].ToString());
        var afterId = NullIfEmpty(query["after_id"].ToString());
        if (beforeId is not null && afterId is not null)
        {
            return new ErrorResult(ApiError.InvalidRequest("before_id and after_id cannot both be given."));
        }

        var aborted = context.RequestAborted;
        var (items, hasMore) = await VisiblePageAsync(key, limit, beforeId, afterId, aborted);
        var shown = new byte[items.Count][];
        var gatewayBase = GatewayBase(context.Request);
        await Parallel.ForAsync(0, items.Count, new ParallelOptions { MaxDegreeOfParallelism = RefreshParallelism, CancellationToken = aborted },
            async (i, cancellationToken) => shown[i] = await ShowAsync(items[i], headers, gatewayBase, cancellationToken));

        var body = JsonValues.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("data"u8);
            foreach (var item in shown)
            {
                writer.WriteRawValue(item, skipInputValidation: true);
            }

            writer.WriteEndArray();
            writer.WriteBoolean("has_more"u8, hasMore);
            WriteId(writer, "first_id"u8, items.Count > 0 ? items[0].Id : null);
            WriteId(writer, "last_id"u8, items.Count > 0 ? items[^1].Id : null);
            writer.WriteEndObject();
        }, 1024);
        return new JsonBodyResult(body);
    }

    /// <summary>
    /// A page of the key's batches that it can see (a deleted batch still waiting for settlement is skipped), newest
    /// first, in Anthropic's paging: each page of the store read until the page is full or nothing is left.
    /// </summary>
    private async Task<(List<OwnedObject> Items, bool HasMore)> VisiblePageAsync(
        ApiKey key, int limit, string? beforeId, string? afterId, CancellationToken aborted)
    {
        var items = new List<OwnedObject>();
        var backwards = beforeId is not null;
        var hasMore = false;
        while (items.Count < limit)
        {
            var page = await objects.ListAsync(key.Id, OwnedKinds.Batch, limit - items.Count, beforeId, afterId, aborted);
            if (page is null)
            {
                // A cursor that names none of the key's batches: nothing lies beyond it.
                break;
            }

            var visible = page.Items.Where(static owned => BatchStates.Read(owned.State).DeletedAt is null).ToList();
            if (backwards)
            {
                items.InsertRange(0, visible);
            }
            else
            {
                items.AddRange(visible);
            }

            hasMore = page.HasMore;
            if (!page.HasMore || page.Items.Count == 0)
            {
                break;
            }

            if (backwards)
            {
                beforeId = page.FirstId;
            }
            else
            {
                afterId = page.LastId;
            }
        }

        return (items, hasMore);
    }

    /// <summary>
    /// One listed batch: as stored when it had ended; otherwise as its upstream describes it now, and stored so
    /// (docs/batches.md#freshness).
    /// </summary>
    private async Task<byte[]> ShowAsync(OwnedObject owned, BatchCallHeaders headers, string gatewayBase, CancellationToken cancellationToken)
    {
        var state = BatchStates.Read(owned.State);
        var shown = state.LastSeen is { } stored ? Encoding.UTF8.GetBytes(stored) : null;
        if (state.ProcessingStatus != "ended" && upstreams.For(owned.Upstream) is { } batches)
        {
            var reply = await batches.RetrieveAsync(owned.UpstreamId, headers, cancellationToken);
            if (reply.Body is { } fresh)
            {
                shown = fresh;
                await KeepAsync(owned, fresh, cancellationToken);
            }
        }

        shown ??= JsonValues.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, owned.Id);
            writer.WriteString("type"u8, "message_batch"u8);
            writer.WriteString("processing_status"u8, state.ProcessingStatus);
            writer.WriteString("created_at"u8, MessageBatchObject.Timestamp(owned.CreatedAt));
            writer.WriteEndObject();
        });
        return MessageBatchObject.ForClient(shown, gatewayBase, owned.Id);
    }

    /// <summary>
    /// A batch is settled before the upstream deletes it, so its results are recorded at what they cost rather than at
    /// the whole reservation a batch gone before settlement is billed (docs/batches.md#ownership). Null when it is settled;
    /// else why the delete must wait: a batch still processing (Anthropic deletes only ended batches), or an ended one
    /// whose results could not be recorded now.
    /// </summary>
    private async Task<ApiError?> SettleBeforeDeleteAsync(OwnedObject owned, CancellationToken cancellationToken)
    {
        try
        {
            if (await settlement.SettleAsync(owned, cancellationToken))
            {
                return null;
            }
        }
        catch (Exception exception) when (exception is not StorageUnavailableException && !cancellationToken.IsCancellationRequested)
        {
            return ResultsNotRecorded;
        }

        if (await objects.FindAsync(owned.OwnerKeyId, owned.Kind, owned.Id, cancellationToken) is not { Pending: true } again)
        {
            return null;
        }

        return BatchStates.Read(again.State).ProcessingStatus == "ended"
            ? ResultsNotRecorded
            : ApiError.InvalidRequest($"Message batch {owned.Id} is still processing and cannot be deleted; cancel it and delete it once it has ended.");
    }

    /// <summary>Stores what the upstream said of the batch when it changed; a concurrent change wins, the next read catches up.</summary>
    private async Task KeepAsync(OwnedObject owned, byte[] batch, CancellationToken cancellationToken)
    {
        if (MessageBatchObject.Read(batch) is not { } read)
        {
            return;
        }

        var state = BatchStates.Read(owned.State);
        var json = Encoding.UTF8.GetString(batch);
        if (state.ProcessingStatus == read.Status && state.LastSeen == json)
        {
            return;
        }

        await objects.ReplaceAsync(owned with { State = BatchStates.Write(state with { ProcessingStatus = read.Status, LastSeen = json }) }, cancellationToken);
    }

    /// <summary>
    /// After the upstream deleted a batch: the key no longer sees it. A batch still owed settlement keeps its object,
    /// marked deleted, until settlement has recorded it (docs/batches.md#ownership); a settled one is removed.
    /// </summary>
    private async Task ForgetAsync(OwnedObject owned, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (!owned.Pending)
            {
                await objects.RemoveAsync(owned.OwnerKeyId, owned.Kind, owned.Id, cancellationToken);
                return;
            }

            var state = BatchStates.Read(owned.State) with { DeletedAt = time.GetUtcNow(), ProcessingStatus = "ended" };
            if (await objects.ReplaceAsync(owned with { State = BatchStates.Write(state) }, cancellationToken) is not null)
            {
                return;
            }

            // Changed meanwhile (a status refresh, settlement): read it again and retry.
            if (await objects.FindAsync(owned.OwnerKeyId, owned.Kind, owned.Id, cancellationToken) is not { } again)
            {
                return;
            }

            owned = again;
        }
    }

    /// <summary>The key's batch and its upstream's batch API; null for anything the key cannot see.</summary>
    private async Task<Found?> FindAsync(ApiKey key, string id, CancellationToken cancellationToken)
    {
        if (!OwnedObjectIds.IsValid(id) || await objects.FindAsync(key.Id, OwnedKinds.Batch, id, cancellationToken) is not { } owned ||
            BatchStates.Read(owned.State).DeletedAt is not null || upstreams.For(owned.Upstream) is not { } batches)
        {
            return null;
        }

        return new Found(owned, batches);
    }

    /// <summary>
    /// The start every batch call shares with a Messages call: the key, then <c>anthropic-version</c>, then the call
    /// counted in the key's requests per minute (docs/limits-and-prices.md#count_tokens-and-refused-calls).
    /// </summary>
    private async Task<Call> BeginAsync(HttpContext context, bool countRequest = true)
    {
        GatewayContext.Of(context, time);
        var request = context.Request;
        var (key, authError) = await ClientAuthentication.AuthenticateAsync(authenticator, request, context.RequestAborted);
        if (key is null)
        {
            return new Call(null, null, new ErrorResult(authError!));
        }

        var version = request.Headers[HeaderNames.AnthropicVersion].ToString();
        if (version.Length == 0)
        {
            return new Call(null, null, new ErrorResult(ApiError.InvalidRequest("anthropic-version: header is required")));
        }

        if (!AnthropicVersions.IsKnown(version))
        {
            return new Call(null, null, new ErrorResult(MessagesRequestReader.UnknownVersion(version)));
        }

        if (countRequest && await rate.AdmitOperationAsync(key) is { } limited)
        {
            return new Call(null, null, new ErrorResult(limited));
        }

        return new Call(key, BatchCallHeaders.Of(request, version), null);
    }

    /// <summary>
    /// The gateway's address as the client used it: the forwarding host's <c>X-Forwarded-Proto</c> and
    /// <c>X-Forwarded-Host</c> when it sent them (the Functions host, a front door), else the request's own
    /// (docs/batches.md#results_url).
    /// </summary>
    public static string GatewayBase(HttpRequest request)
    {
        var scheme = FirstToken(request.Headers["X-Forwarded-Proto"].ToString()) is { } proto && proto is "http" or "https" ? proto : request.Scheme;
        var host = FirstToken(request.Headers["X-Forwarded-Host"].ToString()) is { } forwarded && IsHost(forwarded) ? forwarded : request.Host.Value;
        return scheme + "://" + host + request.PathBase.Value;
    }

    private static string? FirstToken(string value)
    {
        var first = value.Split(',', 2)[0].Trim();
        return first.Length == 0 ? null : first;
    }

    private static bool IsHost(string host) => !host.Any(static c => c is '/' or '\\' or '@' or '?' or '#' || char.IsWhiteSpace(c) || char.IsControl(c));

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static void WriteId(System.Text.Json.Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? id)
    {
        if (id is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, id);
        }
    }

    private readonly record struct Call(ApiKey? Key, BatchCallHeaders? Headers, IResult? Refusal);

    private sealed record Found(OwnedObject Owned, IMessageBatches Batches);

    /// <summary>The upstream's results relayed as they arrive, flushed chunk by chunk, never held whole.</summary>
    private sealed class ResultsRelay(BatchResultsReply reply) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            using (reply)
            {
                var response = httpContext.Response;
                response.StatusCode = StatusCodes.Status200OK;
                response.ContentType = reply.ContentType ?? "application/binary";
                response.Headers.CacheControl = "no-cache";
                httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
                var buffer = new byte[64 * 1024];
                try
                {
                    int read;
                    while ((read = await reply.Body!.ReadAsync(buffer, httpContext.RequestAborted)) > 0)
                    {
                        await response.Body.WriteAsync(buffer.AsMemory(0, read), httpContext.RequestAborted);
                        await response.Body.FlushAsync(httpContext.RequestAborted);
                    }
                }
                catch (Exception exception) when (exception is OperationCanceledException or IOException or HttpRequestException)
                {
                    // The client left, or the upstream stopped mid-way: the client sees a cut body, as with any relayed download.
                    httpContext.Abort();
                }
            }
        }
    }
}
