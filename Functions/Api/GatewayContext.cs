using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Telemetry;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Api;

/// <summary>
/// Per-request state that every endpoint shares: the request id (sent as <c>request-id</c> and <c>x-request-id</c>
/// on every answer, docs/wire-contract.md), when the call started, and how long it waited on others, for the overhead
/// header.
/// </summary>
/// <remarks>
/// The overhead header (<c>x-qhaigc-overhead-ms</c>, docs/architecture.md "Timing") is the time from the request's arrival to the moment the
/// answer's headers go out, less what <see cref="Waits"/> counted: the upstream answering, a body or event still on
/// its way, the client still sending, pauses between retries. Building and sending the upstream request, parsing the
/// answer, keys, limits and usage are the gateway's. In the standalone mode the clock starts as the server hands the
/// request to the pipeline; in the Functions mode, when the worker starts the function (the host's own forwarding is
/// outside the worker's sight).
/// </remarks>
public sealed class GatewayContext
{
    private GatewayContext(string requestId, long startTimestamp, DateTimeOffset startedAt)
    {
        RequestId = requestId;
        StartTimestamp = startTimestamp;
        StartedAt = startedAt;
    }

    public string RequestId { get; }

    public long StartTimestamp { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>
    /// The time this call spent waiting on its upstream and its client: the one clock every waiting stage charges,
    /// handed to it explicitly.
    /// </summary>
    public WaitClock Waits { get; } = new();

    /// <summary>The call's server span, or null when no telemetry exporter listens (docs/telemetry.md).</summary>
    public Activity? Span { get; private init; }

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(StartTimestamp);

    /// <summary>Time spent in the gateway so far, excluding waits on the upstream and on the client.</summary>
    public TimeSpan Overhead
    {
        get
        {
            var ticks = Stopwatch.GetTimestamp() - StartTimestamp - Waits.Ticks;
            return TimeSpan.FromSeconds(Math.Max(0, ticks) / (double)Stopwatch.Frequency);
        }
    }

    /// <summary>The request's context, created on first use.</summary>
    public static GatewayContext Of(HttpContext httpContext, TimeProvider time) =>
        httpContext.Features.Get<GatewayContext>() ?? Arrive(httpContext, time);

    /// <summary>
    /// Creates the request's context as early as the host allows (the standalone mode's first middleware), so the
    /// overhead header counts the pipeline too. Does not touch the async flow.
    /// </summary>
    public static GatewayContext Arrive(HttpContext httpContext, TimeProvider time)
    {
        var requestId = Ids.NewRequestId();
        var context = new GatewayContext(requestId, Stopwatch.GetTimestamp(), time.GetUtcNow())
        {
            Span = CallTelemetry.StartServer(httpContext, requestId),
        };
        httpContext.Features.Set(context);
        var response = httpContext.Response;
        var headers = response.Headers;
        headers[HeaderNames.RequestId] = context.RequestId;
        headers[HeaderNames.XRequestId] = context.RequestId;

        // Every answer, error or not, carries the gateway's own time up to the moment its headers go out.
        response.OnStarting(static state =>
        {
            var (gateway, response) = ((GatewayContext, HttpResponse))state;
            gateway.WriteOverheadHeader(response);
            return Task.CompletedTask;
        }, (context, response));
        return context;
    }

    public static string? RequestIdOf(HttpContext httpContext) => httpContext.Features.Get<GatewayContext>()?.RequestId;

    public void WriteOverheadHeader(HttpResponse response)
    {
        if (!response.HasStarted)
        {
            var overhead = Overhead;
            response.Headers[HeaderNames.Overhead] = overhead.TotalMilliseconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
            CallTelemetry.Overhead(overhead);
        }
    }
}
