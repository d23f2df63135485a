using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Qhaigc.Functions.Hosting;

/// <summary>
/// Gives the standalone mode the client's <c>Connection</c> header as it was sent (docs/wire-contract.md#33-other-client-headers).
/// Kestrel keeps only the token it acts on when the header holds <c>keep-alive</c>, <c>close</c> or <c>upgrade</c>
/// (<c>Connection: keep-alive, X</c> reaches the application as <c>keep-alive</c>), so the names of the other headers the
/// client declared hop-by-hop would be lost, and those headers forwarded. Kestrel decodes each header value with the
/// encoding <see cref="KestrelServerOptionsSelector"/> picks for its name; for <c>Connection</c> this one decodes as
/// Latin-1 and keeps what it decoded, for the first middleware to put back on the request (<see cref="Restore"/>).
/// </summary>
/// <remarks>
/// Kestrel parses an HTTP/1.1 request's headers and then runs it in the same flow of the connection's loop, so the
/// value is kept in a box held by an <see cref="AsyncLocal{T}"/> of that flow, and emptied by the request that takes it.
/// HTTP/2 and HTTP/3 forbid <c>Connection</c> (RFC 9113 §8.2.2), so nothing is captured there.
/// </remarks>
public sealed class ConnectionHeaderCapture : Encoding
{
    private static readonly ConnectionHeaderCapture Instance = new();
    private static readonly AsyncLocal<StrongBox<string?>> Captured = new();

    private ConnectionHeaderCapture()
        : base(Latin1.CodePage)
    {
    }

    /// <summary>For <c>KestrelServerOptions.RequestHeaderEncodingSelector</c>: this encoding for <c>Connection</c>, Kestrel's own for every other header.</summary>
    public static Encoding? KestrelServerOptionsSelector(string headerName) =>
        headerName.Equals("Connection", StringComparison.OrdinalIgnoreCase) ? Instance : null;

    /// <summary>Puts the <c>Connection</c> header the client sent back on the request, in place of the token Kestrel kept.</summary>
    public static void Restore(HttpRequest request)
    {
        if (Captured.Value is not { Value: { } sent } box)
        {
            return;
        }

        box.Value = null;
        if (request.Headers.ContainsKey("Connection"))
        {
            request.Headers.Connection = sent;
        }
    }

    public override int GetByteCount(char[] chars, int index, int count) => Latin1.GetByteCount(chars, index, count);

    public override int GetBytes(char[] chars, int charIndex, int charCount, byte[] bytes, int byteIndex) =>
        Latin1.GetBytes(chars, charIndex, charCount, bytes, byteIndex);

    public override int GetCharCount(byte[] bytes, int index, int count) => count;

    public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex)
    {
        var written = Latin1.GetChars(bytes, byteIndex, byteCount, chars, charIndex);
        Keep(new string(chars, charIndex, written));
        return written;
    }

    public override int GetMaxByteCount(int charCount) => charCount;

    public override int GetMaxCharCount(int byteCount) => byteCount;

    /// <summary>Several <c>Connection</c> lines in one request are one list (RFC 9110 §5.3).</summary>
    private static void Keep(string value)
    {
        var box = Captured.Value;
        if (box is null)
        {
            Captured.Value = box = new StrongBox<string?>();
        }

        box.Value = box.Value is null ? value : box.Value + ", " + value;
    }
}
