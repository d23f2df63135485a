using System.Text;
using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Telemetry;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>
/// <c>POST /v1/messages/count_tokens</c>: the prologue of <c>/v1/messages</c>, but <c>max_tokens</c> is not required. An
/// Anthropic upstream counts; for any other upstream the gateway estimates with a real tokenizer and says so
/// (<c>x-qhaigc-estimated: true</c>). Not billed: the usage record holds zero tokens and the count as its raw usage
/// (docs/wire-contract.md). Its own per-key rate applies (docs/limits-and-prices.md#count_tokens-and-refused-calls).
/// </summary>
public sealed class CountTokensHandler(CallPrologue prologue, UpstreamHealth health, RequestRate rate)
{
    public const string EstimatedHeader = "x-qhaigc-estimated";

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var admitted = await prologue.RunAsync(context, MessagesRequestReader.CountTokens);
        if (admitted.Answer is { } answer)
        {
            return answer;
        }

        var (call, messages, route) = (admitted.Call, admitted.Messages, health.FirstAvailable(admitted.Routes));
        if (await rate.AdmitCountTokensAsync(admitted.Key) is { } limited)
        {
            return prologue.Refuse(call, limited, ErrorFormat.Claude);
        }

        if (route.Upstream is ITokenCountingUpstream counter)
        {
            UpstreamResponse counted;
            try
            {
                counted = await counter.CountTokensAsync(messages, route.UpstreamModel, admitted.Gateway.Waits, context.RequestAborted);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                call.Finish(499, UsageState.Cancelled);
                return Results.Empty;
            }

            call.UpstreamRequestId = counted.UpstreamRequestId;
            if (counted.Error is { } error)
            {
                return prologue.Refuse(call, health.ScreenSingleAttempt(route, error), ErrorFormat.Claude, TelemetryNames.RefusalReasons.Upstream);
            }

            return new JsonBodyResult(counted.Body!, call, new TokenUsage { Raw = Encoding.UTF8.GetString(counted.Body!) });
        }

        var tokens = TokenEstimator.Shared.EstimateRequest(messages.Root);
        var estimate = Translation.JsonValues.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("input_tokens"u8, tokens);
            writer.WriteEndObject();
        }, 32);
        return new JsonBodyResult(estimate, call, new TokenUsage { Raw = Encoding.UTF8.GetString(estimate), Estimated = true })
        {
            Headers = [new(EstimatedHeader, "true")],
        };
    }
}
