using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>
/// <c>POST /v1/messages</c> (spec §1–4, §8): authenticate, validate, route, forward, answer, record. The checks run in
/// Anthropic's order (spec §2.4): size, key, version, JSON, schema, model permission, routing, limits.
/// </summary>
public sealed partial class MessagesHandler(
    ApiKeyAuthenticator authenticator,
    UpstreamRouter router,
    ResilientUpstreamCaller upstreams,
    IUsageSink usage,
    GovernanceService governance,
    TimeProvider time,
    IOptions<GatewayOptions> options,
    ILogger<MessagesHandler> logger)
{
    public const string Endpoint = "messages";

    private readonly GatewayOptions _options = options.Value;

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var gateway = GatewayContext.Begin(context, time);
        var request = context.Request;
        var aborted = context.RequestAborted;

        if (RequestBody.DeclaredTooLarge(request, _options.MaxRequestBodyBytes))
        {
            return TooLarge();
        }

        var (key, refusal) = await AuthenticateAsync(request, aborted);
        if (key is null)
        {
            return refusal!;
        }

        var call = CallRecorders.Create(usage, gateway, key.Id, Endpoint, request);
        var read = await MessagesRequestReader.ReadAsync(request, _options.MaxRequestBodyBytes, requireMaxTokens: true, aborted);
        if (read.ClientLeft)
        {
            call.Finish(499, UsageStates.Cancelled);
            return Results.Empty;
        }

        if (read.Messages is not { } messages)
        {
            return Refuse(call, read.Error!);
        }

        call.Model = messages.Model;
        call.Stream = messages.Stream;

        if (!key.AllowsModel(messages.Model))
        {
            return Refuse(call, ApiError.From(ApiErrorKind.Permission,
                $"This API key does not have permission to use the model '{CallRecorders.Truncate(messages.Model, 256)}'."));
        }

        if (router.Candidates(messages.Model) is not [var route, ..] routes)
        {
            return Refuse(call, ApiError.From(ApiErrorKind.NotFound, "model: " + CallRecorders.Truncate(messages.Model, 256)));
        }

        call.Upstream = route.Upstream.Name;
        call.UpstreamModel = route.UpstreamModel;
        var admission = await governance.AdmitAsync(key, call.RequestId, messages);
        AdmissionResponse.Apply(context.Response, admission, RateLimitHeaderFormat.Anthropic);
        if (admission.Refusal is { } limited)
        {
            return Refuse(call, limited);
        }

        return await ForwardAsync(gateway, call, messages, routes, aborted);
    }

    private async Task<IResult> ForwardAsync(
        GatewayContext gateway, CallRecorder call, MessagesRequest messages, IReadOnlyList<UpstreamRoute> routes, CancellationToken aborted)
    {
        var modelToRestore = routes.All(route => route.UpstreamModel == messages.Model) ? null : messages.Model;
        UpstreamResponse upstream;
        try
        {
            // The upstream's share of this is charged to the call's wait clock by the upstream client (issue 5).
            upstream = await upstreams.SendAsync(routes, messages, call, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            call.Finish(499, UsageStates.Cancelled);
            return Results.Empty;
        }

        call.UpstreamRequestId = upstream.UpstreamRequestId;
        if (upstream.Error is { } upstreamError)
        {
            await upstream.DisposeAsync();
            return Refuse(call, upstreamError);
        }

        if (upstream.Body is { } body)
        {
            return new MessageResult(body, modelToRestore, call) { UsageEstimated = upstream.UsageEstimated };
        }

        var start = await UpstreamStreamStart.WaitAsync(upstream, gateway, _options.Streaming, time, aborted);
        if (start.Outcome != StreamStartOutcome.Started)
        {
            return await UpstreamStreamStart.EndUnstartedAsync(start, upstream, call, logger) is { } error ? Refuse(call, error) : Results.Empty;
        }

        return new StreamResult(upstream, start.FirstEvent, start.Pending, modelToRestore, gateway, call, _options.Streaming, time, logger);
    }

    private async Task<(ApiKey? Key, IResult? Refusal)> AuthenticateAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var (key, error) = await ClientAuthentication.AuthenticateAsync(authenticator, request, cancellationToken);
        return (key, error is null ? null : new ErrorResult(error));
    }

    private ErrorResult Refuse(CallRecorder call, ApiError error)
    {
        Log.Refused(logger, call.RequestId, error.Status, error.Type);
        call.Finish(error.Status, UsageStates.Failed, error.Type);
        return new ErrorResult(error);
    }

    private ErrorResult TooLarge() => new(MessagesRequestReader.TooLarge(_options.MaxRequestBodyBytes));

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Call {RequestId} refused: {Status} {ErrorType}")]
        public static partial void Refused(ILogger logger, string requestId, int status, string errorType);
    }
}
