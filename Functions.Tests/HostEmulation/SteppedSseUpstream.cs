using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>
/// An Anthropic upstream that streams a recorded answer one event per <see cref="Step"/>, so a test can prove each event
/// reached the client while the upstream was still holding the next one back.
/// </summary>
public sealed class SteppedSseUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly SemaphoreSlim _steps = new(0);
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _written;

    private SteppedSseUpstream(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public IReadOnlyList<(string Event, string Data)> Events { get; } = Fixtures.Events("Anthropic/text.sse");

    /// <summary>Events written and flushed so far.</summary>
    public int Written => Volatile.Read(ref _written);

    /// <summary>Completes when the gateway went away mid-stream.</summary>
    public Task Aborted => _aborted.Task;

    public IEnumerable<KeyValuePair<string, string?>> GatewaySettings() =>
    [
        new("Gateway:Upstreams:stepped:Kind", "anthropic"),
        new("Gateway:Upstreams:stepped:BaseUrl", BaseUrl.ToString()),
        new("Gateway:Upstreams:stepped:ApiKey", "sk-ant-stepped-upstream"),
    ];

    /// <summary>Lets the next event go.</summary>
    public void Step() => _steps.Release();

    public static async Task<SteppedSseUpstream> StartAsync()
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var upstream = new SteppedSseUpstream(app, new Uri($"http://127.0.0.1:{port}/"));
        app.MapPost("/v1/messages", upstream.HandleAsync);
        await app.StartAsync();
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _steps.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        using (var body = new MemoryStream())
        {
            await context.Request.Body.CopyToAsync(body, aborted);
        }

        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["request-id"] = "req_stepped_" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            await context.Response.StartAsync(aborted);
            await context.Response.Body.FlushAsync(aborted);
            foreach (var (name, data) in Events)
            {
                await _steps.WaitAsync(aborted);
                await context.Response.WriteAsync($"event: {name}\ndata: {data}\n\n", aborted);
                await context.Response.Body.FlushAsync(aborted);
                Interlocked.Increment(ref _written);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            _aborted.TrySetResult();
        }
    }
}
