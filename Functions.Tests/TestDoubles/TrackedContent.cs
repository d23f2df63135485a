using System.Net;
using System.Net.Http.Headers;

namespace Qhaigc.Functions.Tests.TestDoubles;

/// <summary>
/// An upstream response body that remembers whether it was disposed: disposing an <see cref="HttpResponseMessage"/>
/// disposes its content, so this is how a test sees that the gateway released an upstream connection.
/// </summary>
public sealed class TrackedContent : HttpContent
{
    private readonly byte[] _body;

    public TrackedContent(string body, string mediaType)
    {
        _body = System.Text.Encoding.UTF8.GetBytes(body);
        Headers.ContentType = new MediaTypeHeaderValue(mediaType);
    }

    public bool Disposed { get; private set; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(_body).AsTask();

    protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new MemoryStream(_body, writable: false));

    protected override bool TryComputeLength(out long length)
    {
        length = _body.Length;
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        Disposed = true;
        base.Dispose(disposing);
    }
}
