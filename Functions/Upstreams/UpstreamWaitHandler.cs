using System.Diagnostics;
using System.Net.Sockets;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// Charges the <see cref="WaitClock"/> an upstream request carries (a <see cref="ClockedRequestMessage"/>) with the time its upstream takes to answer: from the moment the
/// request body was handed to the connection (<see cref="UpstreamRequestContent"/>) until the answer's headers are
/// in. Building the request, the connection pool and parsing the answer stay the gateway's own time. A call that had
/// to open a connection waited for it too (DNS, TCP and TLS handshakes with the upstream): it is charged from the
/// start of the send.
/// </summary>
public sealed class UpstreamWaitHandler : DelegatingHandler
{
    public UpstreamWaitHandler()
    {
    }

    public UpstreamWaitHandler(HttpMessageHandler innerHandler)
        : base(innerHandler)
    {
    }

    /// <summary>
    /// A connect callback for <see cref="SocketsHttpHandler"/> that does what the default one does (a TCP socket with
    /// Nagle off, connected to every address of the host in turn) and notes that the call being served opened it.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        if (WaitClock.Of(context.InitialRequestMessage) is { } clock)
        {
            clock.OpenedConnection = true;
        }

        return new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>
    /// Reads a whole answer body; when the body is still on its way the wait is the upstream's, charged to the call.
    /// </summary>
    public static async Task<byte[]> ReadBodyAsync(HttpResponseMessage response, WaitClock? waits, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var read = response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (read.IsCompleted)
        {
            return await read;
        }

        try
        {
            return await read;
        }
        finally
        {
            waits?.AddSince(start);
        }
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        WaitClock.Of(request) is { } clock ? SendTimedAsync(clock, request, cancellationToken) : base.SendAsync(request, cancellationToken);

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Only the asynchronous path is used by the gateway; a synchronous send is charged as a whole.
        var start = Stopwatch.GetTimestamp();
        try
        {
            return base.Send(request, cancellationToken);
        }
        finally
        {
            WaitClock.Of(request)?.AddSince(start);
        }
    }

    private async Task<HttpResponseMessage> SendTimedAsync(WaitClock clock, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        clock.OpenedConnection = false;
        try
        {
            return await base.SendAsync(request, cancellationToken);
        }
        finally
        {
            var sent = (request.Content as UpstreamRequestContent)?.SentTimestamp ?? 0;
            clock.AddSince(clock.OpenedConnection || sent == 0 ? start : sent);
        }
    }
}
