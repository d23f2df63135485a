using System.Threading.Tasks.Sources;

namespace Qhaigc.Functions.Tests.TestDoubles;

/// <summary>
/// A read-only stream whose every read waits until the test (or benchmark: the bench links this file) calls <see cref="Complete"/>, which hands over the next
/// chunk and runs the reader's continuation inline on the calling thread. It is how an event trickling in one per
/// network read looks to a parser, without threads or timers, so allocations can be counted on one thread.
/// The pending read is one reusable <see cref="IValueTaskSource{TResult}"/>: the stream itself allocates nothing.
/// </summary>
public sealed class ManualReadStream(IReadOnlyList<byte[]> chunks) : Stream, IValueTaskSource<int>
{
    private ManualResetValueTaskSourceCore<int> _read;
    private Memory<byte> _destination;
    private int _chunk;
    private int _offset;

    public bool ReadPending { get; private set; }

    /// <summary>Starts over from the first chunk, so one instance serves every benchmark iteration.</summary>
    public void Rewind()
    {
        _chunk = 0;
        _offset = 0;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Completes the pending read with (the rest of) the next chunk, or with 0 once all were handed over.</summary>
    public void Complete()
    {
        if (!ReadPending)
        {
            throw new InvalidOperationException("No read is pending.");
        }

        var count = 0;
        if (_chunk < chunks.Count)
        {
            var source = chunks[_chunk].AsSpan(_offset);
            count = Math.Min(source.Length, _destination.Length);
            source[..count].CopyTo(_destination.Span);
            _offset += count;
            if (_offset == chunks[_chunk].Length)
            {
                _chunk++;
                _offset = 0;
            }
        }

        ReadPending = false;
        _destination = default;
        _read.SetResult(count);
    }

    /// <summary>Faults the pending read, as a connection torn down under a reader does.</summary>
    public void Fail(Exception exception)
    {
        ReadPending = false;
        _destination = default;
        _read.SetException(exception);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (ReadPending)
        {
            throw new InvalidOperationException("A read is already pending.");
        }

        _read.Reset();
        _destination = buffer;
        ReadPending = true;
        return new ValueTask<int>(this, _read.Version);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    int IValueTaskSource<int>.GetResult(short token) => _read.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _read.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _read.OnCompleted(continuation, state, token, flags);
}
