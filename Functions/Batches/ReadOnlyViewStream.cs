namespace Qhaigc.Functions.Batches;

/// <summary>
/// A read-only, forward-only view of a stream: what disposing it releases (<paramref name="owner"/>, and the inner stream
/// unless <paramref name="leaveInnerOpen"/>), and an idle timeout re-armed before each read when one is given, so only
/// silence, never a long body, cuts an upstream's results (docs/faults.md).
/// </summary>
public sealed class ReadOnlyViewStream(Stream inner, IDisposable? owner = null, bool leaveInnerOpen = false, CancellationTokenSource? idle = null, TimeSpan idleTimeout = default)
    : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        idle?.CancelAfter(idleTimeout);
        return inner.Read(buffer, offset, count);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (idle is null)
        {
            return await inner.ReadAsync(buffer, cancellationToken);
        }

        idle.CancelAfter(idleTimeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, idle.Token);
        return await inner.ReadAsync(buffer, linked.Token);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (!leaveInnerOpen)
            {
                inner.Dispose();
            }

            owner?.Dispose();
        }

        base.Dispose(disposing);
    }
}
