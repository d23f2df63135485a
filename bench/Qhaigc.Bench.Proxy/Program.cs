using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Qhaigc.Bench.Bare;
using Qhaigc.Bench.Counters;
using Yarp.ReverseProxy.Forwarder;

// Every request is forwarded as it is to --upstream (YARP's direct forwarding: headers and body streamed both ways,
// responses flushed as they arrive). Kestrel and the upstream client are set up as the gateway sets up its own.
// Each answer carries x-qhaigc-overhead-ms measured exactly as the gateway measures its own (from the request's
// arrival in the pipeline to the answer's headers, less the upstream's time from the request body sent to the answer's
// headers in), so the benchmark can tell what such an in-process clock cannot see of a hop: the same for both.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(static kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Limits.MinResponseDataRate = null;
});
builder.Services.AddHttpForwarder();
var upstream = builder.Configuration.GetValue<string>("upstream") ?? throw new InvalidOperationException("--upstream URL is required.");

var app = builder.Build();
var waits = new AsyncLocal<StrongBox<long>?>();
app.Use(async (context, next) =>
{
    var arrival = Stopwatch.GetTimestamp();
    var waited = new StrongBox<long>();
    waits.Value = waited;
    var response = context.Response;
    response.OnStarting(() =>
    {
        var ticks = Math.Max(0, Stopwatch.GetTimestamp() - arrival - Interlocked.Read(ref waited.Value));
        response.Headers["x-qhaigc-overhead-ms"] = (ticks * 1000.0 / Stopwatch.Frequency).ToString("0.###", CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    });
    await next(context);
});
app.UseRouting();
using var client = new HttpMessageInvoker(new UpstreamWaitTimer(waits, BareUpstreamHandler.Create()));
// The runtime's counters (heap, thread pool) as the bench gateway host reports them, for the scale runs.
app.MapGet("/_bench/runtime", static context =>
{
    context.Response.ContentType = "application/json";
    return context.Response.WriteAsync(ProcessCounters.AppendTo(new StringBuilder("{"), context.Request.Query["live"] == "true").Append("\"proxy\":1}").ToString());
});
var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
var config = new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromMinutes(5) };
app.Map("/{**path}", async (HttpContext context) =>
{
    var error = await forwarder.SendAsync(context, upstream, client, config, HttpTransformer.Default);
    if (error != ForwarderError.None)
    {
        Debug.WriteLine($"forwarding failed: {error}");
    }
});
await app.RunAsync();

/// <summary>Charges the request's clock with the upstream's time: from its body sent to the answer's headers in.</summary>
internal sealed class UpstreamWaitTimer(AsyncLocal<StrongBox<long>?> waits, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var waited = waits.Value;
        var start = Stopwatch.GetTimestamp();
        StampedContent? stamped = null;
        if (waited is not null && request.Content is { } content)
        {
            request.Content = stamped = new StampedContent(content);
        }

        try
        {
            return await base.SendAsync(request, cancellationToken);
        }
        finally
        {
            if (waited is not null)
            {
                var sent = stamped?.SentTimestamp is > 0 and var at ? at : start;
                Interlocked.Add(ref waited.Value, Stopwatch.GetTimestamp() - sent);
            }
        }
    }

    /// <summary>The forwarder's request body, noting when it was written.</summary>
    private sealed class StampedContent : HttpContent
    {
        private readonly HttpContent _inner;

        public StampedContent(HttpContent inner)
        {
            _inner = inner;
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        public long SentTimestamp { get; private set; }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await _inner.CopyToAsync(stream, context, cancellationToken);
            SentTimestamp = Stopwatch.GetTimestamp();
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = _inner.Headers.ContentLength ?? -1;
            return length >= 0;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
