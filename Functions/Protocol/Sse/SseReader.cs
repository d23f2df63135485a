using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Tasks.Sources;

namespace Qhaigc.Functions.Protocol.Sse;

/// <summary>
/// Reads server-sent events from an upstream body by the WHATWG rules, event for event as
/// <see cref="SseParser.Create(Stream)"/> does, but at the passthrough's cost: an event's data is lent from the reader's
/// own buffer, so reading an event allocates nothing.
/// </summary>
/// <remarks>
/// <para>
/// Why not <see cref="SseParser"/>: it allocates a string per event name and, whenever a read has to wait, a state
/// machine box per read (the bench runner's trickle scenario). Here Claude's and OpenAI's event names come back as
/// cached strings, an event already buffered completes <see cref="MoveNextAsync"/> synchronously, and a read that
/// waits completes through the reader itself (an <see cref="IValueTaskSource{TResult}"/>), not a new state machine.
/// </para>
/// <para>
/// Matches <see cref="SseParser"/> deliberately where it departs from a literal reading of the spec: a blank line
/// with no data dispatches nothing and keeps the pending event name, id and retry for the next event; <c>id</c> and
/// <c>retry</c> are carried on the item as SseParser carries them; an event cut off by the end of the stream is not
/// dispatched. It does not dispose the stream: whoever owns the response does.
/// </para>
/// <para>
/// <see cref="SseItem{T}.Data"/> of <see cref="Current"/> is lent: it is valid until the next
/// <see cref="MoveNextAsync"/> or <see cref="DisposeAsync"/>, which may reuse those bytes. Whoever keeps an event's data
/// longer copies it (docs/performance.md#cpu-per-streamed-event).
/// </para>
/// </remarks>
public sealed class SseReader : IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>>, IValueTaskSource<bool>
{
    /// <summary>Larger than SseParser's 1 KiB: a Claude <c>message_start</c> alone is close to that.</summary>
    internal const int DefaultBufferSize = 4096;

    /// <summary>
    /// The buffer a stream whose reads keep filling the buffer grows to: an upstream sending faster than the relay reads
    /// is read in fewer, larger reads (as a proxy copying blocks would), while a stream paced like a model, whose reads
    /// return an event or two, keeps the small buffer (docs/performance.md#cpu-per-streamed-event).
    /// </summary>
    internal const int BurstBufferSize = 32 * 1024;

    /// <summary>The same limits as SseParser: a hostile upstream cannot grow a buffer without bound.</summary>
    private const int MaxLineLength = 64 * 1024 * 1024;
    private const int MaxDataLength = 64 * 1024 * 1024;

    /// <summary>The largest retry SseParser accepts: what a <see cref="TimeSpan"/> can hold.</summary>
    private static readonly long MaxRetryMilliseconds = (long)TimeSpan.MaxValue.TotalMilliseconds;

    private const byte Cr = (byte)'\r';
    private const byte Lf = (byte)'\n';

    /// <summary>A <see cref="MoveNextSlow"/> is running; only it may touch or return the buffers.</summary>
    private const int Busy = 1;
    private const int Disposed = 2;

    private readonly Stream _stream;
    private readonly CancellationToken _cancellationToken;
    private readonly ArrayPool<byte> _pool;

    /// <summary>Bytes read and not yet consumed are <c>[_start, _end)</c>; null once ended or disposed.</summary>
    private byte[]? _buffer;
    private int _start;
    private int _end;

    /// <summary>Bytes from <c>_start</c> up to here hold no line end, so a long line is never searched twice.</summary>
    private int _scanned;
    private bool _eof;
    private bool _bomChecked;

    /// <summary>The last read filled all the room it was given: more was waiting.</summary>
    private bool _lastReadFilled;
    private int _requested;
    private int _state;

    /// <summary>The data lines of the pending event, joined with LF; rented only for multi-line or split events.</summary>
    private byte[]? _data;
    private int _dataLength;
    private bool _dataAppended;
    private string? _eventType;
    private string? _eventId;
    private TimeSpan? _reconnectionInterval;

    /// <summary>The task of a <see cref="MoveNextAsync"/> that waits on a read, and that read.</summary>
    private ManualResetValueTaskSourceCore<bool> _move;
    private ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter _pendingRead;
    private Action? _onReadCompleted;

    public SseReader(Stream stream, CancellationToken cancellationToken = default)
        : this(stream, ArrayPool<byte>.Shared, DefaultBufferSize, cancellationToken)
    {
    }

    internal SseReader(Stream stream, ArrayPool<byte> pool, int bufferSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        _stream = stream;
        _cancellationToken = cancellationToken;
        _pool = pool;
        _buffer = pool.Rent(bufferSize);
    }

    public SseItem<ReadOnlyMemory<byte>> Current { get; private set; }

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    public ValueTask<bool> MoveNextAsync()
    {
        var state = Volatile.Read(ref _state);
        if (state != 0)
        {
            return (state & Busy) != 0
                ? ValueTask.FromException<bool>(new InvalidOperationException("A previous MoveNextAsync has not completed."))
                : new ValueTask<bool>(false);
        }

        if (_buffer is null)
        {
            return new ValueTask<bool>(false);
        }

        if (_cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(_cancellationToken);
        }

        try
        {
            if (TryReadEvent())
            {
                return new ValueTask<bool>(true);
            }
        }
        catch (InvalidDataException exception)
        {
            return ValueTask.FromException<bool>(exception);
        }

        if (_eof)
        {
            ReturnBuffers();
            return new ValueTask<bool>(false);
        }

        return MoveNextSlow();
    }

    /// <summary>
    /// Returns the buffers to the pool; the stream is left to its owner. Idempotent. While a read is pending the
    /// buffers stay with it (the stream may still write into them) and go back to the pool when it completes.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        var previous = Interlocked.Or(ref _state, Disposed);
        if ((previous & (Busy | Disposed)) == 0)
        {
            ReturnBuffers();
        }

        return default;
    }

    /// <summary>
    /// Reads until an event is complete or the stream ends. When a read has to wait, the reader itself is the
    /// <see cref="IValueTaskSource{TResult}"/> behind the returned task and the read's continuation is one cached
    /// delegate: nothing is allocated per read, in Debug builds (where async state machines are classes) too.
    /// </summary>
    private ValueTask<bool> MoveNextSlow()
    {
        _move.Reset();
        Interlocked.Or(ref _state, Busy);
        bool result;
        try
        {
            if (!ReadUntilEventOrWait(out result))
            {
                return new ValueTask<bool>(this, _move.Version);
            }
        }
        catch (Exception exception)
        {
            EndBusy();
            return ValueTask.FromException<bool>(exception);
        }

        EndBusy();
        return new ValueTask<bool>(result);
    }

    /// <summary>Reads and parses until done (true, with the result) or until a read waits (false).</summary>
    [SuppressMessage("Reliability", "CA2012:Use ValueTasks correctly",
        Justification = "Each read's awaiter is consumed exactly once: by GetResult here, or in OnReadCompleted once it completes.")]
    private bool ReadUntilEventOrWait(out bool result)
    {
        while ((Volatile.Read(ref _state) & Disposed) == 0)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            var read = _stream.ReadAsync(PrepareRead(), _cancellationToken).ConfigureAwait(false).GetAwaiter();
            if (!read.IsCompleted)
            {
                _pendingRead = read;
                read.UnsafeOnCompleted(_onReadCompleted ??= OnReadCompleted);
                result = false;
                return false;
            }

            if (Consume(read.GetResult(), out result))
            {
                return true;
            }
        }

        result = false;
        return true;
    }

    private void OnReadCompleted()
    {
        bool result;
        try
        {
            var read = _pendingRead;
            _pendingRead = default;
            if (!Consume(read.GetResult(), out result) && !ReadUntilEventOrWait(out result))
            {
                return;
            }
        }
        catch (Exception exception)
        {
            EndBusy();
            _move.SetException(exception);
            return;
        }

        EndBusy();
        _move.SetResult(result);
    }

    /// <summary>Takes in <paramref name="read"/> bytes; true, with the result, when an event or the end was reached.</summary>
    private bool Consume(int read, out bool result)
    {
        if (read == 0)
        {
            _eof = true;
        }
        else
        {
            _end += read;
            _lastReadFilled = read == _requested;
        }

        if ((Volatile.Read(ref _state) & Disposed) != 0)
        {
            result = false;
            return true;
        }

        if (TryReadEvent())
        {
            result = true;
            return true;
        }

        if (_eof)
        {
            ReturnBuffers();
            result = false;
            return true;
        }

        result = false;
        return false;
    }

    /// <summary>Ends a slow read; if the reader was disposed meanwhile, the buffers are this read's to return.</summary>
    private void EndBusy()
    {
        if ((Interlocked.And(ref _state, ~Busy) & Disposed) != 0)
        {
            ReturnBuffers();
        }
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _move.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _move.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _move.OnCompleted(continuation, state, token, flags);

    /// <summary>Parses complete lines already in the buffer until one dispatches an event.</summary>
    private bool TryReadEvent()
    {
        var buffer = _buffer!;
        if (!_bomChecked)
        {
            // Spec: the stream may start with one UTF-8 BOM. Wait for three bytes (or the end) before deciding.
            if (_end - _start < Utf8Bom.Length && !_eof)
            {
                return false;
            }

            _bomChecked = true;
            if (buffer.AsSpan(_start, _end - _start).StartsWith(Utf8Bom))
            {
                _start += Utf8Bom.Length;
            }
        }

        while (true)
        {
            var from = Math.Max(_scanned, _start);
            var found = buffer.AsSpan(from, _end - from).IndexOfAny(Cr, Lf);
            if (found < 0)
            {
                _scanned = _end;
                return false;
            }

            var lineEnd = from + found;
            var next = NextLineStart(buffer, lineEnd);
            if (next < 0)
            {
                // A CR at the end of what was read may be the first half of a CRLF: decide once more bytes arrive.
                _scanned = lineEnd;
                return false;
            }

            var lineStart = _start;
            _start = next;
            if (ProcessLine(buffer.AsSpan(lineStart, lineEnd - lineStart), lineStart))
            {
                return true;
            }
        }
    }

    /// <summary>Where the line after a line end at <paramref name="lineEnd"/> starts, or -1 if that is not known yet.</summary>
    private int NextLineStart(byte[] buffer, int lineEnd)
    {
        if (buffer[lineEnd] == Lf)
        {
            return lineEnd + 1;
        }

        if (lineEnd + 1 < _end)
        {
            return buffer[lineEnd + 1] == Lf ? lineEnd + 2 : lineEnd + 1;
        }

        return _eof ? lineEnd + 1 : -1;
    }

    /// <summary>Processes the line at <paramref name="lineStart"/> in the buffer; true when it dispatched an event.</summary>
    private bool ProcessLine(ReadOnlySpan<byte> line, int lineStart)
    {
        if (line.IsEmpty)
        {
            // SseParser, unlike the spec, keeps the event name, id and retry of a blank line without data.
            if (!_dataAppended)
            {
                return false;
            }

            Dispatch(_data.AsMemory(0, _dataLength));
            return true;
        }

        ReadOnlySpan<byte> field;
        ReadOnlySpan<byte> value;
        var valueStart = line.Length;
        var colon = line.IndexOf((byte)':');
        if (colon >= 0)
        {
            field = line[..colon];
            valueStart = colon + 1;
            if (valueStart < line.Length && line[valueStart] == (byte)' ')
            {
                valueStart++;
            }

            value = line[valueStart..];
        }
        else
        {
            field = line;
            value = [];
        }

        if (field.SequenceEqual("data"u8))
        {
            // The usual event is one data line and a blank line, both already read: dispatch straight from the buffer.
            if (!_dataAppended && SkipBlankLine())
            {
                Dispatch(_buffer!.AsMemory(lineStart + valueStart, value.Length));
                return true;
            }

            AppendData(value);
        }
        else if (field.SequenceEqual("event"u8))
        {
            _eventType = EventName(value);
        }
        else if (field.SequenceEqual("id"u8))
        {
            if (!value.Contains((byte)0))
            {
                _eventId = Encoding.UTF8.GetString(value);
            }
        }
        else if (field.SequenceEqual("retry"u8))
        {
            if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds) &&
                milliseconds <= MaxRetryMilliseconds)
            {
                _reconnectionInterval = milliseconds == MaxRetryMilliseconds
                    ? TimeSpan.MaxValue
                    : TimeSpan.FromMilliseconds(milliseconds);
            }
        }

        // Comments (an empty field name) and unknown fields are ignored.
        return false;
    }

    /// <summary>Consumes a blank line at <c>_start</c> if one has been read in full.</summary>
    private bool SkipBlankLine()
    {
        if (_start == _end)
        {
            return false;
        }

        var buffer = _buffer!;
        var first = buffer[_start];
        if (first is not (Cr or Lf))
        {
            return false;
        }

        var next = NextLineStart(buffer, _start);
        if (next < 0)
        {
            return false;
        }

        _start = next;
        return true;
    }

    private void Dispatch(ReadOnlyMemory<byte> data)
    {
        Current = new SseItem<ReadOnlyMemory<byte>>(data, _eventType) { EventId = _eventId, ReconnectionInterval = _reconnectionInterval };
        _eventType = null;
        _eventId = null;
        _reconnectionInterval = null;
        _dataLength = 0;
        _dataAppended = false;
    }

    private void AppendData(ReadOnlySpan<byte> value)
    {
        var separator = _dataAppended ? 1 : 0;
        var length = _dataLength + separator + value.Length;
        if (length > MaxDataLength)
        {
            throw new InvalidDataException($"An event's data exceeded {MaxDataLength} bytes.");
        }

        if (_data is null || length > _data.Length)
        {
            var grown = _pool.Rent(Math.Max(length, Math.Max(256, (_data?.Length ?? 0) * 2)));
            if (_data is not null)
            {
                _data.AsSpan(0, _dataLength).CopyTo(grown);
                _pool.Return(_data);
            }

            _data = grown;
        }

        if (separator != 0)
        {
            _data[_dataLength] = Lf;
        }

        value.CopyTo(_data.AsSpan(_dataLength + separator));
        _dataLength = length;
        _dataAppended = true;
    }

    /// <summary>Makes room after <c>_end</c>: starts over when all was consumed, slides a partial line down, grows for a long one.</summary>
    private Memory<byte> PrepareRead()
    {
        var buffer = _buffer!;
        if (_start == _end)
        {
            _start = _end = _scanned = 0;
            if (_lastReadFilled && buffer.Length < BurstBufferSize)
            {
                // Nothing unread to keep: trade the buffer for a larger one.
                _pool.Return(buffer);
                _buffer = buffer = _pool.Rent(Math.Min(buffer.Length * 4, BurstBufferSize));
                _lastReadFilled = false;
            }
        }
        else if (_start > 0 && buffer.Length - _end < buffer.Length / 4)
        {
            buffer.AsSpan(_start, _end - _start).CopyTo(buffer);
            _scanned = Math.Max(_scanned - _start, 0);
            _end -= _start;
            _start = 0;
        }

        if (_end == buffer.Length)
        {
            if (buffer.Length >= MaxLineLength)
            {
                throw new InvalidDataException($"A line exceeded {MaxLineLength} bytes.");
            }

            var grown = _pool.Rent(Math.Min(buffer.Length * 2, MaxLineLength));
            buffer.AsSpan(0, _end).CopyTo(grown);
            _pool.Return(buffer);
            _buffer = buffer = grown;
        }

        _requested = buffer.Length - _end;
        return buffer.AsMemory(_end);
    }

    private void ReturnBuffers()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            _pool.Return(buffer);
        }

        if (_data is { } data)
        {
            _data = null;
            _pool.Return(data);
        }
    }

    /// <summary>The names Claude and OpenAI-compatible streams use come back as the same string instances every time.</summary>
    private static string EventName(ReadOnlySpan<byte> value) => value.Length switch
    {
        0 => string.Empty,
        4 when value.SequenceEqual("ping"u8) => EventNames.Ping,
        5 when value.SequenceEqual("error"u8) => EventNames.Error,
        7 when value.SequenceEqual("message"u8) => SseParser.EventTypeDefault,
        12 when value.SequenceEqual("message_stop"u8) => EventNames.MessageStop,
        13 when value.SequenceEqual("message_delta"u8) => EventNames.MessageDelta,
        13 when value.SequenceEqual("message_start"u8) => EventNames.MessageStart,
        18 when value.SequenceEqual("content_block_stop"u8) => EventNames.ContentBlockStop,
        19 when value.SequenceEqual("content_block_delta"u8) => EventNames.ContentBlockDelta,
        19 when value.SequenceEqual("content_block_start"u8) => EventNames.ContentBlockStart,
        _ => Encoding.UTF8.GetString(value),
    };
}
