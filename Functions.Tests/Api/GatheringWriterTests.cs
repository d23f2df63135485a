using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Protocol.Sse;

namespace Qhaigc.Functions.Tests.Api;

/// <summary>The relay's writer: events written between two flushes reach the response together, in order, in one write.</summary>
public sealed class GatheringWriterTests
{
    [Fact]
    public async Task EventsWrittenBetweenFlushes_ReachTheResponseInOneWrite_OnlyWhenFlushed()
    {
        var pipe = new Pipe();
        var response = new CountingWriter(pipe.Writer);
        var writer = new GatheringWriter(response);

        for (var i = 0; i < 50; i++)
        {
            SseWriter.Write(writer, EventNames.ContentBlockDelta, Encoding.UTF8.GetBytes($$"""{"i":{{i}}}"""));
        }

        Assert.Equal(0, response.SpansAsked);
        Assert.False(pipe.Reader.TryRead(out _));

        await writer.FlushAsync();

        Assert.Equal(1, response.SpansAsked);
        Assert.Equal(0, writer.Gathered);
        var text = await ReadAllAsync(pipe.Reader);
        Assert.Equal(string.Concat(Enumerable.Range(0, 50).Select(i => $"event: content_block_delta\ndata: {{\"i\":{i}}}\n\n")), text);
    }

    [Fact]
    public async Task AGatheringLargerThanItsFirstBuffer_KeepsEveryByteInOrder()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var writer = new GatheringWriter(pipe.Writer);
        var expected = new StringBuilder();

        for (var i = 0; i < 400; i++)
        {
            var data = $$"""{"text":"{{new string((char)('a' + i % 26), i % 97)}}"}""";
            SseWriter.Write(writer, EventNames.ContentBlockDelta, Encoding.UTF8.GetBytes(data));
            expected.Append($"event: content_block_delta\ndata: {data}\n\n");
        }

        Assert.True(writer.Gathered > 16 * 1024);
        await writer.FlushAsync();

        Assert.Equal(expected.ToString(), await ReadAllAsync(pipe.Reader));
    }

    [Fact]
    public async Task Commit_HandsTheBytesOverWithoutFlushing_AndCompleteSendsWhatIsLeft()
    {
        var pipe = new Pipe();
        var writer = new GatheringWriter(pipe.Writer);

        writer.Write("event: ping\n\n"u8);
        writer.Commit();
        Assert.Equal(0, writer.Gathered);
        Assert.False(pipe.Reader.TryRead(out _));

        writer.Write("event: message_stop\n\n"u8);
        writer.Complete();

        Assert.Equal("event: ping\n\nevent: message_stop\n\n", await ReadAllAsync(pipe.Reader));
    }

    [Fact]
    public async Task Release_AndCompleteWithAnError_DropWhatWasGathered()
    {
        var pipe = new Pipe();
        var writer = new GatheringWriter(pipe.Writer);

        writer.Write("event: ping\n\n"u8);
        writer.Release();
        writer.Commit();
        await writer.FlushAsync();
        Assert.False(pipe.Reader.TryRead(out _));

        writer.Write("event: dropped\n\n"u8);
        writer.Complete(new IOException("The client left."));

        // The reader learns of the failure, with no bytes before it.
        await Assert.ThrowsAsync<IOException>(async () => await pipe.Reader.ReadAsync());
    }

    [Fact]
    public void Advance_PastTheMemoryHandedOut_Throws()
    {
        var writer = new GatheringWriter(new Pipe().Writer);
        var length = writer.GetSpan(10).Length;

        Assert.Throws<InvalidOperationException>(() => writer.Advance(length + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Advance(-1));
    }

    /// <summary>Everything flushed so far (a pipe hands all its flushed bytes to one read).</summary>
    private static async Task<string> ReadAllAsync(PipeReader reader)
    {
        var read = await reader.ReadAsync();
        var text = Encoding.UTF8.GetString(read.Buffer.ToArray());
        reader.AdvanceTo(read.Buffer.End);
        return text;
    }

    /// <summary>A response pipe that counts the memory it is asked for: one request is one write into the server.</summary>
    private sealed class CountingWriter(PipeWriter inner) : PipeWriter
    {
        public int SpansAsked { get; private set; }

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            SpansAsked++;
            return inner.GetMemory(sizeHint);
        }

        public override Span<byte> GetSpan(int sizeHint = 0)
        {
            SpansAsked++;
            return inner.GetSpan(sizeHint);
        }
    }
}
