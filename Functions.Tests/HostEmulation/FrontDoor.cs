using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Tests.HostEmulation.Rpc;
using Yarp.ReverseProxy.Forwarder;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>
/// The host's HTTP side for a worker with the ASP.NET Core integration: route the request to a function, then forward
/// it to the worker's <c>HttpUri</c> with <c>x-ms-invocation-id</c> while the matching InvocationRequest goes over gRPC.
/// The worker joins the two halves by that id. The response is streamed back as the worker writes it.
/// </summary>
internal sealed class FrontDoor
{
    public const string InvocationIdHeader = "x-ms-invocation-id";

    /// <summary>The host's forwarding settings (DefaultHttpProxyService): an activity timeout, nothing else.</summary>
    private static readonly ForwarderRequestConfig RequestConfig = new() { ActivityTimeout = TimeSpan.FromSeconds(240) };

    private readonly WorkerChannel _channel;
    private readonly HttpFunctionRouter _router;
    private readonly IHttpForwarder _forwarder;
    private readonly HttpMessageInvoker _client;
    private readonly string _destination;
    private readonly EmulatorLog _log;
    private readonly ConcurrentQueue<InvocationReport> _invocations = new();

    public FrontDoor(WorkerChannel channel, HttpFunctionRouter router, IHttpForwarder forwarder, HttpMessageInvoker client, EmulatorLog log)
    {
        _channel = channel;
        _router = router;
        _forwarder = forwarder;
        _client = client;
        _destination = channel.HttpUri.ToString();
        _log = log;
    }

    /// <summary>How long the host waits for the InvocationResponse once the HTTP response has been forwarded.</summary>
    public static TimeSpan InvocationResponseTimeout { get; } = TimeSpan.FromSeconds(30);

    public IReadOnlyCollection<InvocationReport> Invocations => _invocations;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!_router.TryMatch(context, out var route, out var routeValues))
        {
            // No function route (or none for this method): the host answers 404 itself and the worker never sees it.
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var invocationId = Guid.NewGuid().ToString();
        var request = new InvocationRequest
        {
            InvocationId = invocationId,
            FunctionId = route.FunctionId,
            // The trigger's input is an empty RpcHttp when the host proxies: the request itself travels over HTTP.
            InputData = { new ParameterBinding { Name = route.BindingName, Data = new TypedData { Http = new RpcHttp() } } },
            // Always set: the worker dereferences it (a null trace context fails every invocation).
            TraceContext = new RpcTraceContext { TraceParent = TraceParent(), TraceState = Activity.Current?.TraceStateString ?? string.Empty },
        };
        try
        {
            request.TriggerMetadata.Add(await TriggerMetadata.CreateAsync(context.Request, route.FunctionName, routeValues, context.RequestAborted));
        }
        catch (BadHttpRequestException badRequest)
        {
            // Over the host's own body limit (413), or a malformed body: the host answers before any invocation.
            context.Response.StatusCode = badRequest.StatusCode;
            return;
        }
        catch (Exception readFailure) when (readFailure is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
            // The client went away while the host read the body for binding data.
            return;
        }

        // The host adds the header with TryAdd, so a client's own x-ms-invocation-id would win and break the join
        // (azure-functions-host#10934); the emulator always sets its own.
        context.Request.Headers[InvocationIdHeader] = invocationId;

        // As in the host: forwarding starts first, then the InvocationRequest is sent; the worker parks whichever half
        // arrives first until the other one does.
        var forwarding = _forwarder.SendAsync(context, _destination, _client, RequestConfig, HttpTransformer.Default).AsTask();
        var invocation = _channel.InvokeAsync(request, CancellationToken.None);
        var cancelSent = false;
        ForwarderError error;
        using (context.RequestAborted.Register(() => cancelSent = _channel.TryCancel(invocationId)))
        {
            error = await forwarding;
        }

        var (status, exception) = await OutcomeAsync(invocation);
        var report = new InvocationReport
        {
            InvocationId = invocationId,
            FunctionName = route.FunctionName,
            Method = context.Request.Method,
            Path = context.Request.Path + context.Request.QueryString,
            Status = status,
            HttpStatusCode = context.Response.StatusCode,
            ForwarderError = error.ToString(),
            CancelSent = cancelSent,
            Exception = exception,
            Duration = Stopwatch.GetElapsedTime(started),
        };
        _invocations.Enqueue(report);
        _log.Add($"host: {report.FunctionName} {report.Method} {report.Path} invocation {invocationId}: {status}, HTTP {report.HttpStatusCode}, " +
            $"forwarding {error}{(cancelSent ? ", InvocationCancel sent" : string.Empty)} in {report.Duration.TotalMilliseconds:F0} ms{(exception is null ? string.Empty : " | " + exception)}");
    }

    private static async Task<(InvocationStatus Status, string? Exception)> OutcomeAsync(Task<StreamingMessage> invocation)
    {
        try
        {
            var result = (await invocation.WaitAsync(InvocationResponseTimeout)).InvocationResponse.Result;
            var status = result?.Status switch
            {
                StatusResult.Types.Status.Success => InvocationStatus.Success,
                StatusResult.Types.Status.Cancelled => InvocationStatus.Cancelled,
                _ => InvocationStatus.Failure,
            };
            return (status, result?.Exception is { } exception ? $"{exception.Type}: {exception.Message}" : null);
        }
        catch (TimeoutException)
        {
            return (InvocationStatus.TimedOut, null);
        }
        catch (InvalidOperationException exception)
        {
            return (InvocationStatus.WorkerGone, exception.Message);
        }
    }

    private static string TraceParent()
    {
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C, Id: { } id })
        {
            return id;
        }

        return $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-00";
    }

    /// <summary>A client for the worker configured like the host's forwarder: no proxy, redirects, cookies or decompression.</summary>
    public static HttpMessageInvoker CreateWorkerClient() => new(new RetryProxyHandler(new SocketsHttpHandler
    {
        // The client's own traceparent reaches the worker as sent: the test process's unrecorded request activities
        // are no host span, and their unsampled traceparent would stand in for one (docs/telemetry.md).
        ActivityHeadersPropagator = null,
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(15),
    }), disposeHandler: true);
}
