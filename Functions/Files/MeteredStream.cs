namespace Qhaigc.Functions.Files;

/// <summary>
/// A read-only pass-through over an upload or a download: it counts the bytes, calls <c>onRead</c> before each read (an
/// idle timeout re-armed per read, never a total one), and past <c>maxBytes</c> throws <see cref="FileTooLargeException"/>
/// so an upload that grows past the limit is cut wherever it is (docs/files.md#limits). Nothing is buffered here.
/// </summary>
public sealed class MeteredStream(Stream inner, long? maxBytes = null, Action? onRead = null) : Stream
{
    public long BytesRead { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        onRead?.Invoke();
        return Count(await inner.ReadAsync(buffer, cancellationToken));
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
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Count(int read)
    {
        BytesRead += read;
        if (maxBytes is { } max && BytesRead > max)
        {
            throw new FileTooLargeException(max);
        }

        return read;
    }
}

/// <summary>An upload body that grew past <c>Gateway:Files:MaxUploadBytes</c>.</summary>
public sealed class FileTooLargeException(long maxBytes) : IOException($"The upload is larger than {maxBytes} bytes.")
{
    public long MaxBytes { get; } = maxBytes;
}
