using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Files;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// <c>POST /v1/messages/batches</c> after the key and the version (docs/architecture.md#message-batches): (1) the body
/// read as it arrives, each request checked as a <c>/v1/messages</c> body, its <c>custom_id</c> and its model, and
/// written to a spool; (2) the one deployment that serves every model; (3) each request's model mapped and its worst
/// case tallied; (4) the reservation; (5) the spooled body streamed to the upstream; (6) the batch recorded as the
/// key's. Every refusal names the offending <c>custom_id</c>.
/// </summary>
public sealed partial class BatchCreation(
    UpstreamRouter router,
    UpstreamHealth health,
    MessageBatchUpstreams upstreams,
    IBatchBilling billing,
    IOwnedObjectStore objects,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<BatchCreation> logger,
    FileReferences? files = null,
    RequestRate? rate = null)
{
    /// <summary>The most distinct models one batch may use (docs/batches.md#creating-a-batch): what the batch keeps stays small.</summary>
    public const int MaxModels = 16;

    private static readonly byte[] Open = "{\"requests\":["u8.ToArray();
    private static readonly byte[] Close = "]}"u8.ToArray();
    private static readonly byte[] Comma = ","u8.ToArray();

    public async Task<IResult> CreateAsync(HttpContext context, ApiKey key, BatchCallHeaders headers, string gatewayBase)
    {
        var aborted = context.RequestAborted;
        RequestBody.LiftServerLimit(context.Request);
        await using var spool = BatchSpool.Create();
        Read read;
        try
        {
            // (1) The body, request by request, into the spool.
            read = await ReadAsync(context.Request.BodyReader, spool.File, key, aborted);
        }
        catch (Exception exception) when (ClientGone(exception, aborted))
        {
            return Results.Empty;
        }

        if (read.Error is { } refused)
        {
            return await RefuseUncountedAsync(key, refused);
        }

        // (2) One deployment for the whole batch.
        if (Choose(read) is not { } chosen)
        {
            return await RefuseUncountedAsync(key, Unroutable(read));
        }

        // (3) Each request's model as the deployment knows it, and the batch's worst case.
        var tally = billing.StartTally(key);
        await using var mapped = chosen.Renames ? BatchSpool.Create() : null;
        var mapError = await MapAsync(spool, mapped, chosen, tally, headers, aborted);
        if (mapError is not null)
        {
            return await RefuseUncountedAsync(key, mapError);
        }

        // (4) The reservation against the key's limits, at batch prices (docs/batches.md#billing).
        var requestId = GatewayContext.RequestIdOf(context) ?? Ids.NewRequestId();
        var admission = await billing.ReserveAsync(key, requestId, tally, aborted);
        if (!admission.Admitted)
        {
            return Refuse(admission.Refusal!);
        }

        // (5) The body to the upstream, as it was checked.
        var body = mapped ?? spool;
        var length = body.Length;
        BatchReply reply;
        // Once the body is read the create runs to its end, whether or not the client stays: a batch the upstream took
        // must be owned and reserved for (the client finds it in its list), never released while the upstream bills it.
        await using (var stream = await body.RewindAsync(CancellationToken.None))
        {
            reply = await chosen.Batches.CreateAsync(stream, length, headers, CancellationToken.None);
        }

        if (reply.Error is { } upstreamError)
        {
            await billing.ReleaseAsync(admission, CancellationToken.None);
            return Refuse(upstreamError);
        }

        if (MessageBatchObject.Read(reply.Body) is not { } created || !OwnedObjectIds.IsValid(created.Id))
        {
            await billing.ReleaseAsync(admission, CancellationToken.None);
            return Refuse(new ApiError(502, ErrorTypes.Api, "The upstream answered a batch create with a body that is not a message batch."));
        }

        // (6) The batch is the key's from now on; settlement clears Pending once its results are recorded.
        var state = new BatchState
        {
            ProcessingStatus = created.Status,
            RequestCount = read.Count,
            Reserved = admission.Reserved,
            Models = [.. chosen.Served.Values.Distinct(StringComparer.Ordinal)],
            AskedModels = AskedModels(chosen.Served),
            LastSeen = Encoding.UTF8.GetString(reply.Body!),
        };
        var owned = new OwnedObject
        {
            Kind = OwnedKinds.Batch,
            Id = created.Id,
            OwnerKeyId = key.Id,
            Upstream = chosen.Name,
            UpstreamId = created.Id,
            CreatedAt = time.GetUtcNow(),
            Pending = true,
            State = BatchStates.Write(state),
        };
        try
        {
            await objects.AddAsync(owned, CancellationToken.None);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Unowned, the batch would run for nobody: take it back.
            await chosen.Batches.CancelAsync(created.Id, headers, CancellationToken.None);
            await billing.ReleaseAsync(admission, CancellationToken.None);
            return Refuse(ApiError.From(ApiErrorKind.StorageUnavailable, "The batch could not be recorded; please retry."));
        }

        Log.Created(logger, key.Id, created.Id, chosen.Name, read.Count);
        return new JsonBodyResult(MessageBatchObject.ForClient(reply.Body, gatewayBase, created.Id));
    }

    private async Task<Read> ReadAsync(PipeReader body, FileStream spool, ApiKey key, CancellationToken aborted)
    {
        var limits = options.Value;
        var reader = new BatchBodyReader(body, BatchBodyReader.MaxBodyBytes, limits.MaxRequestBodyBytes, limits.RequestBodyStallTimeout);
        var read = new Read();
        var customIds = new HashSet<string>(StringComparer.Ordinal);
        await spool.WriteAsync(Open, aborted);
        while (true)
        {
            var item = await reader.NextAsync(aborted);
            if (item.Kind == BatchBodyItemKind.Refused)
            {
                return read with { Error = item.Error };
            }

            if (item.Kind == BatchBodyItemKind.End)
            {
                break;
            }

            var index = read.Count;
            using var parts = BatchRequestParts.Read(item.Bytes!, index, out var partsError);
            if (parts is null)
            {
                return read with { Error = partsError };
            }

            var customId = parts.CustomId;
            if (!customIds.Add(customId))
            {
                return read with { Error = Named(ApiError.InvalidRequest("custom_id: must be unique within the batch; it is used more than once"), index, customId) };
            }

            using var messages = MessagesRequestValidator.Parse(parts.ParamsBytes.ToArray(), out var invalid);
            if (messages is null)
            {
                return read with { Error = Named(invalid!, index, customId, "params") };
            }

            if (messages.Stream)
            {
                return read with { Error = Named(ApiError.InvalidRequest("stream: Message batches do not stream; leave stream out or set it to false"), index, customId, "params") };
            }

            var model = messages.Model;
            if (!key.AllowsModel(model))
            {
                return read with
                {
                    Error = Named(ApiError.From(ApiErrorKind.Permission,
                        $"This API key does not have permission to use the model '{CallRecorders.Truncate(model, 256)}'."), index, customId),
                };
            }

            // A request that names uploaded files needs them to be the key's own, and the batch goes to the deployment
            // that holds them (docs/files.md#references).
            if (messages.ReferencesFiles && files is not null)
            {
                var check = await files.FindAsync(key.Id, messages.Root, aborted, read.Files);
                if (check.Error is { } fileError)
                {
                    return read with { Error = Named(fileError, index, customId, "params") };
                }

                if (check.Upstream is { } holder)
                {
                    if (read.FileUpstream is { } earlier && !string.Equals(earlier, holder, StringComparison.Ordinal))
                    {
                        return read with
                        {
                            Error = Named(ApiError.InvalidRequest("The batch's files live on more than one upstream; send one batch per upstream."), index, customId, "params"),
                        };
                    }

                    read = read with { FileUpstream = holder };
                }
            }

            if (!read.FirstCustomIdByModel.ContainsKey(model))
            {
                if (read.FirstCustomIdByModel.Count == MaxModels)
                {
                    return read with
                    {
                        Error = Named(ApiError.InvalidRequest($"model: a batch uses at most {MaxModels} different models; send one batch per group of models"), index, customId, "params"),
                    };
                }

                if (router.Candidates(model).Count == 0)
                {
                    return read with { Error = Named(ApiError.From(ApiErrorKind.NotFound, "model: " + CallRecorders.Truncate(model, 256)), index, customId) };
                }

                read.FirstCustomIdByModel[model] = customId;
            }

            if (index > 0)
            {
                await spool.WriteAsync(Comma, aborted);
            }

            await spool.WriteAsync(item.Bytes, aborted);
            read = read with { Count = index + 1 };
        }

        await spool.WriteAsync(Close, aborted);
        return read;
    }

    /// <summary>
    /// The first deployment, in the router's order for the batch's first model (one that is not resting first), that has
    /// a Message Batches API and serves every model of the batch; null when there is none.
    /// </summary>
    private Chosen? Choose(Read read)
    {
        var models = read.FirstCustomIdByModel.Keys.ToList();
        var eligible = new List<UpstreamRoute>();
        foreach (var route in router.Candidates(models[0]))
        {
            if (upstreams.For(route.Upstream.Name) is not null && models.TrueForAll(model => Serving(model, route.Upstream.Name) is not null) &&
                (read.FileUpstream is null || string.Equals(read.FileUpstream, route.Upstream.Name, StringComparison.Ordinal)))
            {
                eligible.Add(route);
            }
        }

        if (eligible.Count == 0)
        {
            return null;
        }

        var name = health.FirstAvailable(eligible).Upstream.Name;
        var served = models.ToDictionary(static model => model, model => Serving(model, name)!.Value.UpstreamModel, StringComparer.Ordinal);
        return new Chosen(name, upstreams.For(name)!, served);
    }

    /// <summary>Each served model and the first model the batch named for it (its models are in the order they first appear).</summary>
    private static Dictionary<string, string> AskedModels(Dictionary<string, string> served)
    {
        var asked = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (model, upstreamModel) in served)
        {
            asked.TryAdd(upstreamModel, model);
        }

        return asked;
    }

    private UpstreamRoute? Serving(string model, string upstream)
    {
        foreach (var route in router.Candidates(model))
        {
            if (route.Upstream.Name == upstream)
            {
                return route;
            }
        }

        return null;
    }

    /// <summary>Why no deployment takes the batch: a model that no Anthropic upstream serves, or models that no one serves together.</summary>
    private ApiError Unroutable(Read read)
    {
        if (read.FileUpstream is not null)
        {
            return ApiError.InvalidRequest("requests: the upstream that holds this batch's files does not serve every model of the batch.");
        }

        foreach (var (model, customId) in read.FirstCustomIdByModel)
        {
            if (!router.Candidates(model).Any(route => upstreams.For(route.Upstream.Name) is not null))
            {
                return ApiError.InvalidRequest(
                    $"requests (custom_id '{customId}'): the model '{CallRecorders.Truncate(model, 256)}' is served only by an OpenAI-compatible upstream; message batches need an Anthropic upstream.");
            }
        }

        return ApiError.InvalidRequest(
            $"requests: no single Anthropic upstream serves every model of this batch ({string.Join(", ", read.FirstCustomIdByModel.Keys.Select(static m => CallRecorders.Truncate(m, 64)))}); send one batch per upstream.");
    }

    /// <summary>Tallies each request's worst case and, when the deployment knows a model by another name, writes the renamed body.</summary>
    private static async Task<ApiError?> MapAsync(
        BatchSpool spool, BatchSpool? mapped, Chosen chosen, BatchCostTally tally, BatchCallHeaders headers, CancellationToken aborted)
    {
        await using var source = await spool.RewindAsync(aborted);
        var reader = new BatchBodyReader(PipeReader.Create(source), long.MaxValue, long.MaxValue, Timeout.InfiniteTimeSpan);
        var target = mapped?.File;
        if (target is not null)
        {
            await target.WriteAsync(Open, aborted);
        }

        var index = 0;
        while (await reader.NextAsync(aborted) is { Kind: BatchBodyItemKind.Request, Bytes: { } bytes })
        {
            using var parts = BatchRequestParts.Read(bytes, index, out _)!;
            var model = Translation.JsonValues.GetString(parts.Params, "model")!;
            var served = chosen.Served[model];
            if (tally.Add(parts.Params, served, headers.Beta) is { } refused)
            {
                return Named(refused, index, parts.CustomId);
            }

            if (target is not null)
            {
                if (index > 0)
                {
                    await target.WriteAsync(Comma, aborted);
                }

                await target.WriteAsync(Renamed(parts, served == model ? null : served), aborted);
            }

            index++;
        }

        if (target is not null)
        {
            await target.WriteAsync(Close, aborted);
        }

        return null;
    }

    /// <summary>The request with its params' model renamed, every other byte of the params as sent.</summary>
    private static byte[] Renamed(BatchRequestParts parts, string? served) => Translation.JsonValues.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("custom_id"u8, parts.CustomId);
        writer.WritePropertyName("params"u8);
        writer.WriteRawValue(served is null ? parts.ParamsBytes : JsonRewriter.WithTopLevelValues(parts.Params, served, null), skipInputValidation: true);
        writer.WriteEndObject();
    }, parts.ParamsBytes.Length + 128);

    /// <summary>An error about one request: its place and its <c>custom_id</c>, then what is wrong (<c>requests.3.params.model: …</c>).</summary>
    private static ApiError Named(ApiError error, int index, string customId, string? field = null)
    {
        var path = $"requests.{index}" + (field is null ? "" : "." + field);
        var message = error.Message.Contains(": ", StringComparison.Ordinal) && !error.Message.StartsWith("There was", StringComparison.Ordinal)
            ? path + "." + error.Message
            : path + ": " + error.Message;
        return error with { Message = message + $" (custom_id '{customId}')" };
    }

    /// <summary>True when reading the body failed because the client went away (a reset, or the end before the promised length).</summary>
    private static bool ClientGone(Exception exception, CancellationToken aborted) =>
        aborted.IsCancellationRequested || exception is IOException or ClientLeftException ||
        (exception is BadHttpRequestException && exception.Message.Contains("Unexpected end", StringComparison.Ordinal));

    /// <summary>
    /// A create refused before its reservation (which counts it) still counts one request in the key's window, as a
    /// refused Messages call does: a full window answers <c>429</c> instead (docs/limits-and-prices.md#count_tokens-and-refused-calls).
    /// </summary>
    private async Task<IResult> RefuseUncountedAsync(ApiKey key, ApiError error) =>
        Refuse(rate is not null && await rate.CountRefusalAsync(key) is { } limited ? limited : error);

    private ErrorResult Refuse(ApiError error)
    {
        Log.Refused(logger, error.Status, error.Type);
        return new ErrorResult(error);
    }

    private sealed record Read
    {
        public int Count { get; init; }

        public ApiError? Error { get; init; }

        /// <summary>The deployment that holds the files the batch's requests name; null when none names a file.</summary>
        public string? FileUpstream { get; init; }

        /// <summary>Each model of the batch, with the first request that asks for it.</summary>
        public Dictionary<string, string> FirstCustomIdByModel { get; } = new(StringComparer.Ordinal);

        /// <summary>The key's files the batch's requests named so far, each read from the table once.</summary>
        public Dictionary<string, OwnedObject?> Files { get; } = new(StringComparer.Ordinal);
    }

    private sealed record Chosen(string Name, IMessageBatches Batches, Dictionary<string, string> Served)
    {
        public bool Renames => Served.Any(static pair => pair.Key != pair.Value);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2503, Level = LogLevel.Information, Message = "Key {KeyId} created batch {BatchId} on upstream {Upstream}: {Count} requests")]
        public static partial void Created(ILogger logger, string keyId, string batchId, string upstream, int count);

        [LoggerMessage(EventId = 2504, Level = LogLevel.Information, Message = "Batch create refused: {Status} {ErrorType}")]
        public static partial void Refused(ILogger logger, int status, string errorType);
    }
}
