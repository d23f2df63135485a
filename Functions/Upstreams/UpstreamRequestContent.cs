using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// A JSON request body for an upstream that remembers when it was handed to the connection: from then on the call
/// waits on the upstream (<see cref="UpstreamWaitHandler"/>); before, the time is the gateway's (building the request,
/// taking a pooled connection, writing the headers).
/// </summary>
public sealed class UpstreamRequestContent : ByteArrayContent
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    public UpstreamRequestContent(byte[] body)
        : base(body)
    {
        Headers.ContentType = Json;
    }

    /// <summary>When the body was last written (<see cref="Stopwatch.GetTimestamp"/>), or 0 while it has not been.</summary>
    public long SentTimestamp { get; private set; }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await base.SerializeToStreamAsync(stream, context, cancellationToken);
        SentTimestamp = Stopwatch.GetTimestamp();
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await base.SerializeToStreamAsync(stream, context);
        SentTimestamp = Stopwatch.GetTimestamp();
    }

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        base.SerializeToStream(stream, context, cancellationToken);
        SentTimestamp = Stopwatch.GetTimestamp();
    }
}
