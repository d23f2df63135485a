using System.Collections.Concurrent;
using System.Text;
using Qhaigc.Functions.Batches;

namespace Qhaigc.Functions.Tests.Batches;

/// <summary>
/// An upstream's batch API in memory, as settlement reads it: each batch's <c>processing_status</c> and its results as
/// JSON Lines, streamed a line per read. <see cref="FailAfterLines"/> makes a results stream break after that many
/// lines, as a run that dies half way sees it.
/// </summary>
public sealed class InMemoryBatchUpstream : IBatchUpstream
{
    private readonly ConcurrentDictionary<string, Batch> _batches = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Batch> _forgotten = new(StringComparer.Ordinal);

    public int? FailAfterLines { get; set; }

    /// <summary>Times the results were opened, over every batch.</summary>
    public int ResultReads => _resultReads;

    private int _resultReads;

    public void Add(string upstreamId, string status, IReadOnlyList<string> lines) => _batches[upstreamId] = new Batch(status, lines);

    public void SetStatus(string upstreamId, string status) => _batches[upstreamId] = _batches[upstreamId] with { Status = status };

    /// <summary>The upstream no longer knows the batch (until <see cref="Remember"/>).</summary>
    public void Forget(string upstreamId)
    {
        if (_batches.TryRemove(upstreamId, out var batch))
        {
            _forgotten[upstreamId] = batch;
        }
    }

    /// <summary>The upstream knows a forgotten batch again, as it was.</summary>
    public void Remember(string upstreamId) => _batches[upstreamId] = _forgotten[upstreamId];

    public Task<byte[]?> RetrieveAsync(string upstream, string upstreamId, CancellationToken cancellationToken)
    {
        if (!_batches.TryGetValue(upstreamId, out var batch))
        {
            return Task.FromResult<byte[]?>(null);
        }

        var ended = batch.Status == "ended" ? "\"2026-12-07T10:00:00Z\"" : "null";
        var json = $$"""{"id":"{{upstreamId}}","type":"message_batch","processing_status":"{{batch.Status}}","ended_at":{{ended}}}""";
        return Task.FromResult<byte[]?>(Encoding.UTF8.GetBytes(json));
    }

    public Task<Stream> OpenResultsAsync(string upstream, string upstreamId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _resultReads);
        var lines = _batches[upstreamId].Lines;
        return Task.FromResult<Stream>(new LineStream(lines, FailAfterLines));
    }

    private sealed record Batch(string Status, IReadOnlyList<string> Lines);

    /// <summary>Gives one line per read, then, past <c>failAfter</c> lines, an I/O error.</summary>
    private sealed class LineStream(IReadOnlyList<string> lines, int? failAfter) : Stream
    {
        private int _line;
        private byte[] _pending = [];
        private int _offset;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_offset == _pending.Length)
            {
                if (_line == failAfter)
                {
                    throw new IOException("The results stream broke.");
                }

                if (_line == lines.Count)
                {
                    return 0;
                }

                _pending = Encoding.UTF8.GetBytes(lines[_line++] + "\n");
                _offset = 0;
            }

            var n = Math.Min(buffer.Length, _pending.Length - _offset);
            _pending.AsSpan(_offset, n).CopyTo(buffer);
            _offset += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
