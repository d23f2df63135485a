using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Translation;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>
/// <c>POST /v1/messages/count_tokens</c> (spec §5.1–5.2): the checks of <c>/v1/messages</c> in the same order, but
/// <c>max_tokens</c> is not required. An Anthropic upstream counts; for any other upstream the gateway estimates with a
/// real tokenizer and says so (<c>x-qhaigc-estimated: true</c>). Not billed: the usage record holds zero tokens and the
/// count as its raw usage.
/// </summary>
public sealed partial class CountTokensHandler(
    ApiKeyAuthenticator authenticator,
    UpstreamRouter router,
    IUsageSink usage,
    TimeProvider time,
    IOptions<GatewayOptions> options,
    ILogger<CountTokensHandler> logger)
{
    public const string Endpoint = "count_tokens";
    public const string EstimatedHeader = "x-qhaigc-estimated";

    private readonly GatewayOptions _options = options.Value;

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var gateway = GatewayContext.Begin(context, time);
        var request = context.Request;
        var aborted = context.RequestAborted;
        if (RequestBody.DeclaredTooLarge(request, _options.MaxRequestBodyBytes))
        {
            return new ErrorResult(TooLarge());
        }

        var (key, authError) = await ClientAuthentication.AuthenticateAsync(authenticator, request, aborted);
        if (key is null)
        {
            return new ErrorResult(authError!);
        }

        var call = CallRecorders.Create(usage, gateway, key.Id, Endpoint, request);
        var read = await MessagesRequestReader.ReadAsync(request, _options.MaxRequestBodyBytes, requireMaxTokens: false, aborted);
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

        if (!key.AllowsModel(messages.Model))
        {
            return Refuse(call, ApiError.From(ApiErrorKind.Permission,
                $"This API key does not have permission to use the model '{CallRecorders.Truncate(messages.Model, 256)}'."));
        }

        if (router.Route(messages.Model) is not { } route)
        {
            return Refuse(call, ApiError.From(ApiErrorKind.NotFound, "model: " + CallRecorders.Truncate(messages.Model, 256)));
        }

        call.Upstream = route.Upstream.Name;
        call.UpstreamModel = route.UpstreamModel;
        if (route.Upstream is ITokenCountingUpstream counter)
        {
            UpstreamResponse counted;
            try
            {
                counted = await counter.CountTokensAsync(messages, route.UpstreamModel, aborted);
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                call.Finish(499, UsageStates.Cancelled);
                return Results.Empty;
            }

            call.UpstreamRequestId = counted.UpstreamRequestId;
            if (counted.Error is { } error)
            {
                return Refuse(call, error);
            }

            return new JsonBodyResult(counted.Body!, call, new TokenUsage { Raw = Encoding.UTF8.GetString(counted.Body!) });
        }

        var tokens = TokenEstimator.Shared.EstimateRequest(messages.Root);
        var answer = JsonValues.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("input_tokens"u8, tokens);
            writer.WriteEndObject();
        }, 32);
        return new JsonBodyResult(answer, call, new TokenUsage { Raw = Encoding.UTF8.GetString(answer), Estimated = true })
        {
            Headers = [new(EstimatedHeader, "true")],
        };
    }

    private ErrorResult Refuse(CallRecorder call, ApiError error)
    {
        Log.Refused(logger, call.RequestId, error.Status, error.Type);
        call.Finish(error.Status, UsageStates.Failed, error.Type);
        return new ErrorResult(error);
    }

    private ApiError TooLarge() => MessagesRequestReader.TooLarge(_options.MaxRequestBodyBytes);

    private static partial class Log
    {
        [LoggerMessage(EventId = 4201, Level = LogLevel.Information, Message = "Call {RequestId} refused: {Status} {ErrorType}")]
        public static partial void Refused(ILogger logger, string requestId, int status, string errorType);
    }
}
