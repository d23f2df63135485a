using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// A JSON request body for an upstream that remembers when it went out on the connection: from then on the call waits
/// on the upstream (<see cref="UpstreamWaitHandler"/>); before, the time is the gateway's (building the request, taking
/// a pooled connection, writing the headers and the body to the socket).
/// </summary>
public sealed class UpstreamRequestContent : HttpContent
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly byte[] _body;

    public UpstreamRequestContent(byte[] body)
    {
        _body = body;
        Headers.ContentType = Json;
    }

    /// <summary>When the body was last written and flushed (<see cref="Stopwatch.GetTimestamp"/>), or 0 while it has not been.</summary>
    public long SentTimestamp { get; private set; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        WriteAsync(stream, cancellationToken);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        WriteAsync(stream, CancellationToken.None);

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        stream.Write(_body);
        stream.Flush();
        SentTimestamp = Stopwatch.GetTimestamp();
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _body.Length;
        return true;
    }

    protected override Stream CreateContentReadStream(CancellationToken cancellationToken) => new MemoryStream(_body, writable: false);

    private async Task WriteAsync(Stream stream, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(_body, cancellationToken);
        // Sent means on the wire: the connection would flush its buffer right after this anyway, and writing to the
        // socket is the gateway's work, not the upstream's.
        await stream.FlushAsync(cancellationToken);
        SentTimestamp = Stopwatch.GetTimestamp();
    }
}
