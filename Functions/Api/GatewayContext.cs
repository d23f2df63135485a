using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Api;

/// <summary>
/// Per-request state that every endpoint shares: the request id (sent as <c>request-id</c> and <c>x-request-id</c>
/// on every answer, spec §2.3), when the call started, and how long it waited on others, for the overhead header.
/// </summary>
public sealed class GatewayContext
{
    private long _waitTicks;

    private GatewayContext(string requestId, long startTimestamp, DateTimeOffset startedAt)
    {
        RequestId = requestId;
        StartTimestamp = startTimestamp;
        StartedAt = startedAt;
    }

    public string RequestId { get; }

    public long StartTimestamp { get; }

    public DateTimeOffset StartedAt { get; }

    public static GatewayContext Begin(HttpContext httpContext, TimeProvider time)
    {
        var context = new GatewayContext(Ids.NewRequestId(), Stopwatch.GetTimestamp(), time.GetUtcNow());
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

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(StartTimestamp);

    /// <summary>Adds time spent waiting on the upstream or the client, which is not the gateway's own overhead.</summary>
    public void AddWait(long startTimestamp) => Interlocked.Add(ref _waitTicks, Stopwatch.GetTimestamp() - startTimestamp);

    /// <summary>Time spent in the gateway so far, excluding waits on the upstream and on the client.</summary>
    public TimeSpan Overhead
    {
        get
        {
            var ticks = Stopwatch.GetTimestamp() - StartTimestamp - Interlocked.Read(ref _waitTicks);
            return TimeSpan.FromSeconds(Math.Max(0, ticks) / (double)Stopwatch.Frequency);
        }
    }

    public void WriteOverheadHeader(HttpResponse response)
    {
        if (!response.HasStarted)
        {
            response.Headers[HeaderNames.Overhead] = Overhead.TotalMilliseconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
