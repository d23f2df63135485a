using System.Buffers;
using System.IO.Pipelines;

namespace Qhaigc.Functions.Api;

/// <summary>
/// The stream relay's writer: what the relay writes between two flushes gathers in one pooled buffer and goes into the
/// response in one write when it is flushed. Writing each event straight into the server's pipe costs a request for
/// memory and an advance per event, each taken under the server's lock; gathered, a burst of events costs one of each.
/// Nothing waits longer for it: bytes leave when the relay flushes, as before, and the relay flushes whenever the next
/// event is not already here (docs/performance.md#cpu-per-streamed-event). Between flushes it holds no buffer, so an
/// open stream that waits for its next event costs nothing here.
/// </summary>
public sealed class GatheringWriter(PipeWriter response) : PipeWriter
{
    private const int MinimumBufferSize = 4096;

    private byte[]? _buffer;
    private int _written;

    /// <summary>Bytes written and not yet handed to the response.</summary>
    public int Gathered => _written;

    public override Span<byte> GetSpan(int sizeHint = 0) => BufferFor(sizeHint).AsSpan(_written);

    public override Memory<byte> GetMemory(int sizeHint = 0) => BufferFor(sizeHint).AsMemory(_written);

    public override void Advance(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (_written + bytes > (_buffer?.Length ?? 0))
        {
            throw new InvalidOperationException("Advanced past the memory handed out.");
        }

        _written += bytes;
    }

    /// <summary>Hands what was gathered to the response, then flushes the response.</summary>
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        Commit();
        return response.FlushAsync(cancellationToken);
    }

    /// <summary>Hands what was gathered to the response without flushing it, and returns the buffer to the pool.</summary>
    public void Commit()
    {
        if (_buffer is not { } buffer)
        {
            return;
        }

        if (_written > 0)
        {
            response.Write(buffer.AsSpan(0, _written));
        }

        Release();
    }

    /// <summary>Drops what was gathered (nobody is left to read it) and returns the buffer to the pool.</summary>
    public void Release()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            _written = 0;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override void CancelPendingFlush() => response.CancelPendingFlush();

    public override void Complete(Exception? exception = null)
    {
        if (exception is null)
        {
            Commit();
        }
        else
        {
            Release();
        }

        response.Complete(exception);
    }

    private byte[] BufferFor(int sizeHint)
    {
        var needed = _written + Math.Max(sizeHint, 1);
        if (_buffer is { } buffer && needed <= buffer.Length)
        {
            return buffer;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(MinimumBufferSize, 2 * (_buffer?.Length ?? 0))));
        if (_buffer is { } smaller)
        {
            smaller.AsSpan(0, _written).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(smaller);
        }

        _buffer = larger;
        return larger;
    }
}
