using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Telemetry;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>
/// Forwards a call the <see cref="CallPrologue"/> admitted (docs/architecture.md): (6) the key's limits and spend cap,
/// (7) the start of the upstream answer, with its retries and fallbacks (<see cref="ResilientUpstreamCaller"/>), then
/// (8) the one place that maps how it started to what the client sees: a whole message, a relayed stream, an error,
/// or nothing for a client that left. The <see cref="AnswerFormat"/> is the only part that differs by endpoint.
/// </summary>
public sealed class UpstreamForwarder(
    ResilientUpstreamCaller upstreams,
    GovernanceService governance,
    CallPrologue prologue,
    TimeProvider time,
    IOptions<GatewayOptions> options,
    ILogger<UpstreamForwarder> logger)
{
    private readonly StreamingOptions _streaming = options.Value.Streaming;
    private readonly bool _countFirst = UnmeasuredInputModes.IsCountFirst(options.Value.Limits.UnmeasuredInput);
    private readonly Func<MessagesRequest, string?, long> _abandonedInput = (sent, model) => InputReservation.AbandonedTokens(sent, model, options.Value.Limits);

    public async Task<IResult> ForwardAsync(HttpContext context, Prologue admitted, AnswerFormat format, RateLimitHeaderFormat headers)
    {
        var call = admitted.Call;
        call.AbandonedInput = _abandonedInput;
        call.RequestedOptions = (Translation.JsonValues.GetString(admitted.Messages.Root, "speed"), Translation.JsonValues.GetString(admitted.Messages.Root, "inference_geo"));
        GatewayTelemetry.Resume(call.Span);

        // (6) Limits and spend caps, shared by every instance; with count-first, input the gateway cannot measure is
        // counted by the primary upstream first (docs/limits-and-prices.md#what-a-hard-cap-guarantees).
        var counter = _countFirst ? UpstreamInputCounter.For(admitted.Routes, admitted.Gateway.Waits, context.RequestAborted) : null;
        var admission = await governance.AdmitAsync(admitted.Key, call.RequestId, admitted.Messages, admitted.Routes, counter);
        AdmissionResponse.Apply(context.Response, admission, headers);
        if (admission.Refusal is { } limited)
        {
            return prologue.Refuse(call, limited, format.Errors,
                limited.Type == ErrorTypes.Billing ? TelemetryNames.RefusalReasons.Caps : TelemetryNames.RefusalReasons.Limits);
        }

        // (7) The answer's start.
        var start = await upstreams.StartAsync(admitted.Routes, admitted.Messages, call, admitted.Gateway.Waits, context.RequestAborted);

        // (8) What the client sees.
        switch (start.Outcome)
        {
            case UpstreamStartOutcome.Message:
                return new MessageResult(start.Response!.Body!, format, call, start.Response.UsageEstimated);
            case UpstreamStartOutcome.Streaming or UpstreamStartOutcome.Waiting:
                return new StreamRelay(start, format, admitted.Gateway, call, _streaming, time, logger);
            case UpstreamStartOutcome.ClientGone:
                // Billed at its input estimate if the upstream had the request (CallRecorder.Finish).
                call.Finish(499, UsageState.Cancelled);
                return Results.Empty;
            default:
                return prologue.Refuse(call, start.Error!, format.Errors, TelemetryNames.RefusalReasons.Upstream);
        }
    }
}
