using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Tests.Upstreams;

/// <summary>
/// What the upstream client charges to a call's <see cref="WaitClock"/> (the overhead header's "waiting on the
/// upstream", docs/architecture.md): the upstream's answer time, not the gateway's work before the request leaves.
/// </summary>
public sealed class UpstreamWaitHandlerTests
{
    private static readonly TimeSpan GatewaySide = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan UpstreamSide = TimeSpan.FromMilliseconds(400);

    [Fact]
    public async Task SendAsync_ChargesFromBodySentToHeaders_NotTheWorkBefore()
    {
        // Arrange: the inner handler spends 300 ms before it writes the body (the gateway's side: pool, headers),
        // then 400 ms before it answers (the upstream's).
        var inner = new LambdaHandler(async (request, cancellationToken) =>
        {
            await Task.Delay(GatewaySide, cancellationToken);
            await request.Content!.CopyToAsync(Stream.Null, cancellationToken);
            await Task.Delay(UpstreamSide, cancellationToken);
            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        using var client = new HttpClient(new UpstreamWaitHandler(inner));
        var clock = new WaitClock();

        // Act
        var started = Stopwatch.GetTimestamp();
        using var response = await SendWithClockAsync(client, clock, new UpstreamRequestContent("{}"u8.ToArray()));
        var elapsed = Stopwatch.GetElapsedTime(started);

        // Assert: the upstream's 400 ms (timers may fire a millisecond early), and none of the 300 ms before the body
        // was written.
        var waited = Waited(clock);
        Assert.True(waited >= UpstreamSide - TimeSpan.FromMilliseconds(20), $"waited {waited}");
        Assert.True(waited <= elapsed - GatewaySide + TimeSpan.FromMilliseconds(20), $"waited {waited} of {elapsed}");
        Assert.False(clock.OpenedConnection);
    }

    [Fact]
    public async Task SendAsync_ChargesTheWholeSend_WhenTheBodyWasNeverWritten()
    {
        // Arrange: a request without a body of ours (a model listing) or one that fails before its body is written.
        var inner = new LambdaHandler(async (_, cancellationToken) =>
        {
            await Task.Delay(UpstreamSide, cancellationToken);
            throw new HttpRequestException("connection refused");
        });
        using var client = new HttpClient(new UpstreamWaitHandler(inner));
        var clock = new WaitClock();

        // Act
        await Assert.ThrowsAsync<HttpRequestException>(() => SendWithClockAsync(client, clock, new UpstreamRequestContent("{}"u8.ToArray())));

        // Assert
        Assert.True(Waited(clock) >= UpstreamSide - TimeSpan.FromMilliseconds(20), $"waited {Waited(clock)}");
    }

    [Fact]
    public async Task SendAsync_ChargesNothing_WithoutACallsClock()
    {
        // Arrange: outside a call (a background refresh, a test): nothing to charge, nothing breaks.
        var inner = new LambdaHandler((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.NoContent)));
        using var client = new HttpClient(new UpstreamWaitHandler(inner));

        // Act
        using var response = await client.GetAsync(new Uri("http://127.0.0.1:9/"));

        // Assert
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task SendAsync_ChargesTheClockItsRequestCarries_NotAnotherCallsInTheSameFlow()
    {
        // Arrange: two calls' sends started from one async flow, one slow and one quick; nothing ambient may mix them.
        var inner = new LambdaHandler(async (request, cancellationToken) =>
        {
            await request.Content!.CopyToAsync(Stream.Null, cancellationToken);
            if (request.RequestUri!.AbsolutePath.EndsWith("/slow", StringComparison.Ordinal))
            {
                await Task.Delay(UpstreamSide, cancellationToken);
            }

            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        using var client = new HttpClient(new UpstreamWaitHandler(inner));
        var slow = new WaitClock();
        var quick = new WaitClock();

        // Act
        var slowSend = SendWithClockAsync(client, slow, new UpstreamRequestContent("{}"u8.ToArray()), new Uri("http://127.0.0.1:9/slow"));
        using (var response = await SendWithClockAsync(client, quick, new UpstreamRequestContent("{}"u8.ToArray()), new Uri("http://127.0.0.1:9/quick")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var slowResponse = await slowSend;

        // Assert: each clock got its own call's wait.
        Assert.True(Waited(slow) >= UpstreamSide - TimeSpan.FromMilliseconds(20), $"slow waited {Waited(slow)}");
        Assert.True(Waited(quick) < UpstreamSide / 2, $"quick waited {Waited(quick)}");
    }

    [Fact]
    public async Task ConnectAsync_MarksTheCallThatOpenedAConnection_AndOnlyIt()
    {
        // Arrange: a real loopback server and the gateway's own proxy handler, whose connect callback is under test.
        await using var server = await StartServerAsync();
        using var client = new HttpClient(new UpstreamWaitHandler(GatewayServiceCollectionExtensions.CreateProxyHandler(TimeSpan.FromSeconds(5))));
        var first = new WaitClock();
        var second = new WaitClock();

        // Act: the first call opens the connection, the second reuses it.
        using (var response = await SendWithClockAsync(client, first, new UpstreamRequestContent("{}"u8.ToArray()), server.Uri))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await response.Content.ReadAsByteArrayAsync();
        }

        using (var response = await SendWithClockAsync(client, second, new UpstreamRequestContent("{}"u8.ToArray()), server.Uri))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Assert
        Assert.True(first.OpenedConnection);
        Assert.False(second.OpenedConnection);
        Assert.True(first.Ticks > 0);
        Assert.True(second.Ticks > 0);
    }

    [Fact]
    public async Task ReadBodyAsync_ChargesABodyStillOnItsWay()
    {
        // Arrange: headers now, the body 400 ms later.
        var inner = new LambdaHandler((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StreamContent(new SlowStream(UpstreamSide, "{\"ok\":true}"u8.ToArray())),
        }));
        using var client = new HttpClient(inner);
        using var response = await client.GetAsync(new Uri("http://127.0.0.1:9/"), HttpCompletionOption.ResponseHeadersRead);
        var clock = new WaitClock();

        // Act
        var body = await ReadWithClockAsync(response, clock);

        // Assert
        Assert.Equal("{\"ok\":true}"u8.ToArray(), body);
        Assert.True(Waited(clock) >= UpstreamSide - TimeSpan.FromMilliseconds(20), $"waited {Waited(clock)}");
    }

    [Fact]
    public async Task UpstreamRequestContent_IsSentOnlyOnceFlushed()
    {
        // Arrange: a connection's stream that buffers until flushed, as HTTP/1.1's does.
        var content = new UpstreamRequestContent("{\"model\":\"m\"}"u8.ToArray());
        var stream = new FlushRecordingStream();

        // Act
        await content.CopyToAsync(stream);

        // Assert: the body went out whole and was flushed before it counts as sent (writing is the gateway's work).
        Assert.Equal("{\"model\":\"m\"}"u8.ToArray(), stream.ToArray());
        Assert.True(stream.FlushedAt > 0);
        Assert.True(content.SentTimestamp >= stream.FlushedAt);
        Assert.Equal(13, content.Headers.ContentLength);
        Assert.Equal("application/json", content.Headers.ContentType?.MediaType);
    }

    private static TimeSpan Waited(WaitClock clock) => TimeSpan.FromSeconds(clock.Ticks / (double)Stopwatch.Frequency);

    /// <summary>Sends as an upstream adapter does: with the call's clock attached to the request.</summary>
    private static async Task<HttpResponseMessage> SendWithClockAsync(HttpClient client, WaitClock clock, HttpContent content, Uri? uri = null)
    {
        using var request = new ClockedRequestMessage(HttpMethod.Post, uri ?? new Uri("http://127.0.0.1:9/v1/messages"), clock) { Content = content };
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    private static Task<byte[]> ReadWithClockAsync(HttpResponseMessage response, WaitClock clock) =>
        UpstreamWaitHandler.ReadBodyAsync(response, clock, CancellationToken.None);

    private static async Task<LoopbackServer> StartServerAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapPost("/", static () => Results.Text("{}", "application/json"));
        await app.StartAsync();
        return new LoopbackServer(app);
    }

    private sealed class LoopbackServer(WebApplication app) : IAsyncDisposable
    {
        public Uri Uri { get; } = new(app.Urls.First() + "/");

        public ValueTask DisposeAsync() => app.DisposeAsync();
    }

    /// <summary>A body whose bytes arrive only after a delay.</summary>
    private sealed class SlowStream(TimeSpan delay, byte[] bytes) : MemoryStream(bytes)
    {
        private bool _waited;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_waited)
            {
                _waited = true;
                await Task.Delay(delay, cancellationToken);
            }

            return await base.ReadAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    private sealed class FlushRecordingStream : MemoryStream
    {
        public long FlushedAt { get; private set; }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            FlushedAt = Stopwatch.GetTimestamp();
            return Task.CompletedTask;
        }
    }
}
