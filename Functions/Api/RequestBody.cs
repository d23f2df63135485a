using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Api;

/// <summary>Reads a request body into memory with a hard limit, whether or not the client sent a length.</summary>
public static class RequestBody
{
    /// <summary>Kestrel's message for a body that ended before its <c>Content-Length</c> (invariant globalization: English).</summary>
    private const string UnexpectedEnd = "Unexpected end of request content";

    /// <summary>What a stalled body is refused with.</summary>
    public const string StalledMessage = "The request body stopped arriving before it was complete.";

    /// <summary>True when a body read failed because the client went away.</summary>
    public static bool ClientLeft(Exception exception, CancellationToken aborted) =>
        aborted.IsCancellationRequested || exception is ClientLeftException;

    /// <summary>How long a body may go without a byte before the read is cut, unless the caller says otherwise.</summary>
    public static readonly TimeSpan DefaultStallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The body, or null when it is larger than <paramref name="limit"/>. Time spent waiting for the body to arrive is
    /// the client's, charged to <paramref name="waits"/> when given. A body that sends nothing for
    /// <paramref name="stallTimeout"/> is cut with a <see cref="BadHttpRequestException"/> of status <c>408</c>: neither
    /// hosting mode lets a stalled client hold a request open (docs/faults.md).
    /// </summary>
    public static async Task<byte[]?> ReadAsync(
        HttpRequest request, long limit, CancellationToken cancellationToken, WaitClock? waits = null, TimeSpan? stallTimeout = null)
    {
        if (DeclaredTooLarge(request, limit))
        {
            return null;
        }

        LiftServerLimit(request);

        var reader = request.BodyReader;
        while (true)
        {
            ReadResult result;
            var stalled = false;
            try
            {
                var read = reader.ReadAsync(cancellationToken);
                if (read.IsCompleted)
                {
                    result = await read;
                }
                else
                {
                    // The body is still arriving: waiting on the client is not the gateway's overhead, and is bounded.
                    var waitStart = Stopwatch.GetTimestamp();
                    using var stall = new CancellationTokenSource(stallTimeout ?? DefaultStallTimeout);
                    using var cut = stall.Token.UnsafeRegister(static state => ((PipeReader)state!).CancelPendingRead(), reader);
                    try
                    {
                        result = await read;
                    }
                    finally
                    {
                        waits?.AddSince(waitStart);
                    }

                    stalled = result.IsCanceled && stall.IsCancellationRequested;
                }
            }
            catch (Exception exception) when (exception is IOException ||
                                              (exception is BadHttpRequestException && (request.HttpContext.RequestAborted.IsCancellationRequested ||
                                                  exception.Message.Contains(UnexpectedEnd, StringComparison.Ordinal))))
            {
                // The connection ended in the middle of the body (a reset, or its end before the promised length): the
                // client left, so the call is cancelled, not malformed (docs/faults.md). Kestrel may signal RequestAborted a
                // moment after the read fails, so the end of the content is recognised by itself too.
                throw new ClientLeftException(exception);
            }

            if (stalled)
            {
                // Outside the try above: this exception is an IOException too, and must not pass for a client that left.
                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                throw new BadHttpRequestException(StalledMessage, StatusCodes.Status408RequestTimeout);
            }

            var buffer = result.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }

            if (result.IsCompleted)
            {
                var body = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return body;
            }

            // Nothing consumed, everything examined: the next read returns the whole body so far plus more.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>
    /// True when the request declares a body longer than <paramref name="limit"/>, which the caller refuses with 413
    /// without reading it. The server's own limit is lifted first, so the server drains the body after the answer
    /// instead of resetting the connection (behind the Functions host a reset turns the 413 into a 502).
    /// </summary>
    public static bool DeclaredTooLarge(HttpRequest request, long limit)
    {
        if (!(request.ContentLength > limit))
        {
            return false;
        }

        LiftServerLimit(request);
        return true;
    }

    /// <summary>
    /// Lifts the server's own body limit (Kestrel's 30 MB default); call it before answering 413 without reading the
    /// body, too. The gateway enforces its own limit while reading, so the server's must not cut a body the gateway
    /// accepts; and after an early 413 it lets Kestrel drain the unread rest (within its 5-second drain timeout)
    /// instead of resetting the connection. Behind the Functions host, a reset while the host is still sending the body
    /// turns the 413 into the host's 502 (its forwarder reports a request body error).
    /// </summary>
    public static void LiftServerLimit(HttpRequest request)
    {
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = null;
        }
    }
}
