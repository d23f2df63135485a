using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Files;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Telemetry;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>
/// The prologue of every endpoint that reads a Claude request (docs/architecture.md): (1) a declared body over the
/// limit, (2) the key, (3) the request, read by the endpoint's <see cref="IClaudeRequestReader"/>, (4) the key's
/// permission for the model, (5) the upstreams that serve it. Each refusal is answered in the reader's error format
/// and recorded (once there is a key to record it under) in one place, <see cref="Refuse"/>; a refusal of stages (3) to
/// (5) also counts against the key's requests per minute (<see cref="RequestRate"/>).
/// </summary>
public sealed partial class CallPrologue(
    ApiKeyAuthenticator authenticator,
    UpstreamRouter router,
    RequestRate rate,
    IUsageSink usage,
    TimeProvider time,
    IOptions<GatewayOptions> options,
    ILogger<CallPrologue> logger,
    FileReferences? files = null)
{
    private readonly BodyLimits _body = new(options.Value.MaxRequestBodyBytes, options.Value.RequestBodyStallTimeout);
    private readonly bool _keyIdInMetrics = options.Value.Telemetry.KeyIdInMetrics;

    public async ValueTask<Prologue> RunAsync(HttpContext context, IClaudeRequestReader reader)
    {
        var gateway = GatewayContext.Of(context, time);
        var request = context.Request;
        var aborted = context.RequestAborted;
        GatewayTelemetry.Resume(gateway.Span);
        CallTelemetry.Route(gateway.Span, request.Path.Value, reader.Endpoint);

        // (1) A declared body over the limit is refused before anything else, even the key.
        if (RequestBody.DeclaredTooLarge(request, _body.MaxBytes))
        {
            return new Prologue(Answer(gateway, reader, MessagesRequestReader.TooLarge(_body.MaxBytes), TelemetryNames.RefusalReasons.Validation));
        }

        // (2) The key.
        var (key, authError) = await ClientAuthentication.AuthenticateAsync(authenticator, request, aborted);
        if (key is null)
        {
            return new Prologue(Answer(gateway, reader, authError!, TelemetryNames.RefusalReasons.Auth));
        }

        // (3) The request.
        CallTelemetry.Key(gateway.Span, key.Id);
        var call = CallRecorders.Create(usage, gateway, key.Id, reader.Endpoint, request);
        call.KeyIdInMetrics = _keyIdInMetrics;
        var read = await reader.ReadAsync(request, _body, call, gateway, aborted);
        if (read.ClientLeft)
        {
            call.Finish(499, UsageState.Cancelled);
            return new Prologue(Results.Empty);
        }

        if (read.Messages is not { } messages)
        {
            return new Prologue(await RefuseCountedAsync(key, call, read.Error!, reader.Errors, TelemetryNames.RefusalReasons.Validation));
        }

        call.Model = messages.Model;
        if (reader.RecordsStream)
        {
            call.Stream = messages.Stream;
        }

        // (4) The key's permission for the model.
        if (!key.AllowsModel(messages.Model))
        {
            return new Prologue(await RefuseCountedAsync(key, call, ApiError.From(ApiErrorKind.Permission,
                $"This API key does not have permission to use the model '{CallRecorders.Truncate(messages.Model, 256)}'."), reader.Errors,
                TelemetryNames.RefusalReasons.Permission));
        }

        // (5) The upstreams that serve it: pool by pool, each in the order the call's affinity gives.
        var affinity = CallAffinity.Of(request.Headers[HeaderNames.ClaudeCodeSessionId].ToString(), messages, key.Id);
        if (router.Candidates(messages.Model, affinity) is not [var route, ..] routes)
        {
            return new Prologue(await RefuseCountedAsync(key, call, ApiError.From(ApiErrorKind.NotFound, "model: " + CallRecorders.Truncate(messages.Model, 256)),
                reader.Errors, TelemetryNames.RefusalReasons.Validation));
        }

        // A request that names uploaded files (found while it was validated; no other pays a table read) needs them to be
        // the key's own, and goes only to the deployment that holds them (docs/files.md#references).
        if (messages.ReferencesFiles && files is not null)
        {
            var check = await files.FindAsync(key.Id, messages.Root, aborted);
            if (check.Error is { } fileError)
            {
                return new Prologue(await RefuseCountedAsync(key, call, fileError, reader.Errors, TelemetryNames.RefusalReasons.Validation));
            }

            if (check.Upstream is { } holder)
            {
                if (routes.Where(r => string.Equals(r.Upstream.Name, holder, StringComparison.Ordinal)).ToArray() is not [var held, ..] heldRoutes)
                {
                    return new Prologue(await RefuseCountedAsync(key, call, ApiError.InvalidRequest(
                        $"model: '{CallRecorders.Truncate(messages.Model, 256)}' is not served by the upstream that holds this request's files."),
                        reader.Errors, TelemetryNames.RefusalReasons.Validation));
                }

                (route, routes) = (held, heldRoutes);
            }
        }

        call.Upstream = route.Upstream.Name;
        call.UpstreamModel = route.UpstreamModel;
        return new Prologue(null) { Gateway = gateway, Key = key, Call = call, Messages = messages, Routes = routes };
    }

    /// <summary>
    /// Answers a call with an error and records it as failed; <paramref name="reason"/> is what the refusals metric
    /// counts it under (<see cref="TelemetryNames.RefusalReasons"/>), by default read from the error's type.
    /// </summary>
    public ErrorResult Refuse(CallRecorder call, ApiError error, ErrorFormat format, string? reason = null)
    {
        error = ForFormat(error, format);
        Log.Refused(logger, call.RequestId, error.Status, error.Type);
        CallTelemetry.Refused(call.Span, call.Endpoint, reason ?? CallTelemetry.RefusalReasonOf(error), error.Status, error.Type);
        call.Finish(error.Status, UsageState.Failed, error.Type);
        return new ErrorResult(error, format);
    }

    /// <summary>
    /// <see cref="Refuse"/> for a call refused before admission, counted against the key's requests per minute: once the
    /// window is full the answer is its <c>429</c> instead (docs/limits-and-prices.md#count_tokens-and-refused-calls).
    /// </summary>
    private async ValueTask<ErrorResult> RefuseCountedAsync(ApiKey key, CallRecorder call, ApiError error, ErrorFormat format, string reason) =>
        await rate.CountRefusalAsync(key) is { } limited ? Refuse(call, limited, format) : Refuse(call, error, format, reason);

    /// <summary>An error answer for a call that has no record (no key yet).</summary>
    private static ErrorResult Answer(GatewayContext gateway, IClaudeRequestReader reader, ApiError error, string reason)
    {
        error = ForFormat(error, reader.Errors);
        CallTelemetry.Refused(gateway.Span, reader.Endpoint, reason, error.Status, error.Type);
        return new ErrorResult(error, reader.Errors);
    }

    /// <summary>OpenAI clients know no 529: an overloaded or unreachable upstream is a 503 in OpenAI's shape.</summary>
    private static ApiError ForFormat(ApiError error, ErrorFormat format) =>
        format == ErrorFormat.OpenAi && error.Status == 529 ? error with { Status = 503 } : error;

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Call {RequestId} refused: {Status} {ErrorType}")]
        public static partial void Refused(ILogger logger, string requestId, int status, string errorType);
    }
}

/// <summary>
/// The result of <see cref="CallPrologue.RunAsync"/>: the answer already decided (a refusal, or nothing for a client
/// that left), or everything the endpoint needs to go on.
/// </summary>
public readonly record struct Prologue(IResult? Answer)
{
    public GatewayContext Gateway { get; init; } = null!;

    public ApiKey Key { get; init; } = null!;

    public CallRecorder Call { get; init; } = null!;

    public MessagesRequest Messages { get; init; } = null!;

    public IReadOnlyList<UpstreamRoute> Routes { get; init; } = null!;
}
