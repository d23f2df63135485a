using System.Buffers;
using System.IO.Pipelines;
using System.Net.ServerSentEvents;
using System.Text;
using Qhaigc.Functions.Protocol.Sse;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Protocol;

public sealed class SseReaderTests
{
    private static readonly int[] ChunkSizes = [1, 2, 3, 5, 7, 4096];

    /// <summary>Inputs read by both SseParser and SseReader; their events must agree field for field.</summary>
    private static readonly Dictionary<string, byte[]> Inputs = new()
    {
        ["empty"] = [],
        ["lf"] = Utf8("event: message_start\ndata: {\"a\":1}\n\ndata: x\n\n"),
        ["crlf"] = Utf8("event: message_start\r\ndata: {\"a\":1}\r\n\r\ndata: x\r\n\r\n"),
        ["cr"] = Utf8("event: message_start\rdata: {\"a\":1}\r\rdata: x\r\r"),
        ["mixed line ends"] = Utf8("data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r\nevent: e\n\rdata: f\n\n"),
        ["cr lf as two line ends"] = Utf8("data: a\n\rdata: b\r\r\n\n"),
        ["bom"] = Utf8("\uFEFFdata: x\n\n"),
        ["bom before a field"] = Utf8("\uFEFFevent: ping\ndata: {}\n\n"),
        ["bom twice"] = Utf8("\uFEFF\uFEFFdata: x\n\ndata: y\n\n"),
        ["bom only"] = Utf8("\uFEFF"),
        ["bom half"] = [0xEF, 0xBB],
        ["bom not at start"] = Utf8("data: x\n\n\uFEFFdata: y\n\ndata: z\n\n"),
        ["comments"] = Utf8(": hello\n:\n:data: no\ndata: x\n: between\n\n: trailing\n"),
        ["multi-line data"] = Utf8("data: a\ndata: b\ndata:\ndata: c\n\ndata:\ndata:\n\n"),
        ["empty data"] = Utf8("data:\n\ndata\n\ndata: \n\n"),
        ["data without colon"] = Utf8("data\ndata\n\n"),
        ["no space after colon"] = Utf8("event:ping\ndata:{}\n\n"),
        ["two spaces after colon"] = Utf8("event:  ping\ndata:  x\n\n"),
        ["tab after colon"] = Utf8("data:\tx\n\n"),
        ["colon in value"] = Utf8("data: a:b: c\n\n"),
        ["event names"] = Utf8(string.Concat(
            new[] { "message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop", "ping", "error", "message", "custom", "ünïcödé", "message_stopx", "messagE" }
                .Select(static name => $"event: {name}\ndata: {{\"type\":\"{name}\"}}\n\n"))),
        ["event name empty"] = Utf8("event:\ndata: x\n\nevent\ndata: y\n\n"),
        ["event name last wins"] = Utf8("event: a\nevent: b\ndata: x\n\n"),
        ["event without data carries over"] = Utf8("event: foo\n\ndata: x\n\ndata: y\n\n"),
        ["event without data then another event"] = Utf8("event: foo\n\nevent: bar\ndata: x\n\n"),
        ["event after data"] = Utf8("data: x\nevent: late\n\n"),
        ["unknown fields"] = Utf8("foo: bar\nDATA: x\ndata : y\nEvent: z\ndata: w\n\n"),
        ["id and retry"] = Utf8("id: 1\nretry: 1000\ndata: x\n\nid\nretry: abc\ndata: y\n\nid: a\0b\nretry: -5\ndata: z\n\n"),
        ["id and retry without data carry over"] = Utf8("id: 7\nretry: 30\n\ndata: x\n\ndata: y\n\n"),
        ["retry limits"] = Utf8("retry: 922337203685477\ndata: a\n\nretry: 922337203685478\ndata: b\n\nretry: 99999999999999999999\ndata: c\n\nretry: 0\ndata: d\n\n"),
        ["no trailing blank line"] = Utf8("data: x\n\ndata: y\n"),
        ["no trailing line end"] = Utf8("data: x\n\ndata: y"),
        ["no trailing line end after blank"] = Utf8("data: x\n\n: end"),
        ["cr at end of stream"] = Utf8("data: x\r\r"),
        ["lone cr at end of stream"] = Utf8("data: x\r"),
        ["only blank lines"] = Utf8("\n\n\r\n\r\r\n"),
        ["multi-byte utf-8"] = Utf8("event: 事件\ndata: 日本語 ü 🙂\n\n"),
        ["invalid utf-8"] = [.. "event: "u8, 0xC3, 0x28, .. "\ndata: "u8, 0xFF, 0xFE, .. "\n\n"u8],
        ["nul in data"] = Utf8("data: a\0b\n\n"),
        ["long line"] = Utf8($"event: content_block_delta\ndata: {new string('x', 10_000)}\n\ndata: short\n\n"),
        ["very long lines"] = Utf8($"data: {new string('a', 70_000)}\ndata: {new string('b', 5_000)}\n\n: {new string('c', 9_000)}\ndata: z\n\n"),
        ["long event name"] = Utf8($"event: {new string('e', 5_000)}\ndata: x\n\n"),
        ["many events"] = ManyEvents(500),
        ["anthropic text fixture"] = Fixtures.Bytes("Anthropic/text.sse"),
        ["anthropic tool fixture"] = Fixtures.Bytes("Anthropic/tool_use.sse"),
        ["anthropic error fixture"] = Fixtures.Bytes("Anthropic/midstream_error.sse"),
        ["openai fixture"] = Fixtures.Bytes("OpenAi/reasoning_parallel_tools.sse"),
    };

    public static TheoryData<string, int> InputsAndChunkSizes()
    {
        var data = new TheoryData<string, int>();
        foreach (var input in Inputs.Keys)
        {
            foreach (var chunk in ChunkSizes)
            {
                data.Add(input, chunk);
            }
        }

        return data;
    }

    public static TheoryData<string, int> InputsAndBufferSizes()
    {
        var data = new TheoryData<string, int>();
        foreach (var input in Inputs.Keys)
        {
            foreach (var size in new[] { 1, 16, 100 })
            {
                data.Add(input, size);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(InputsAndChunkSizes))]
    public async Task MoveNextAsync_MatchesSseParser_WhenReadsAreSplit(string input, int chunk)
    {
        // Arrange
        var bytes = Inputs[input];

        // Act
        var expected = await ParseWithSseParserAsync(new ChunkedStream(bytes, chunk));
        var actual = await ReadWithSseReaderAsync(new ChunkedStream(bytes, chunk), SseReader.DefaultBufferSize);

        // Assert
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(InputsAndBufferSizes))]
    public async Task MoveNextAsync_MatchesSseParser_WhenTheBufferStartsSmall(string input, int bufferSize)
    {
        // Arrange
        var bytes = Inputs[input];

        // Act
        var expected = await ParseWithSseParserAsync(new MemoryStream(bytes));
        var actual = await ReadWithSseReaderAsync(new MemoryStream(bytes), bufferSize);

        // Assert
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task MoveNextAsync_MatchesSseParser_WhenEachEventIsOneWaitingRead()
    {
        // Arrange
        var events = ClaudeEvents(50);
        var expected = await ParseWithSseParserAsync(new MemoryStream([.. events.SelectMany(static e => e)]));
        var stream = new ManualReadStream(events);
        await using var reader = new SseReader(stream);
        var actual = new List<Item>();

        // Act
        while (true)
        {
            var move = reader.MoveNextAsync();
            while (!move.IsCompleted)
            {
                stream.Complete();
            }

            if (!await move)
            {
                break;
            }

            actual.Add(Item.From(reader.Current));
        }

        // Assert
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task MoveNextAsync_ReturnsCachedEventNames_ForClaudeAndOpenAiEvents()
    {
        // Arrange
        string[] names = ["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop", "ping", "error", "message"];
        var bytes = Utf8(string.Concat(names.Select(static name => $"event: {name}\ndata: {{}}\n\n")));

        // Act
        var first = await ReadItemsAsync(bytes);
        var second = await ReadItemsAsync(bytes);

        // Assert
        Assert.Equal(names, first.Select(static item => item.EventType));
        Assert.All(first.Zip(second), static pair => Assert.Same(pair.First.EventType, pair.Second.EventType));
        Assert.Same(EventNames.ContentBlockDelta, first[2].EventType);
    }

    [Fact]
    public async Task MoveNextAsync_CompletesSynchronously_WhenAnEventIsBuffered()
    {
        // Arrange
        await using var reader = new SseReader(new ChunkedStream(Utf8("data: a\n\ndata: b\n\n"), 4096));
        Assert.True(await reader.MoveNextAsync());

        // Act
        var move = reader.MoveNextAsync();

        // Assert
        Assert.True(move.IsCompletedSuccessfully);
        Assert.True(await move);
        Assert.Equal("b"u8.ToArray(), reader.Current.Data);
    }

    [Fact]
    public async Task MoveNextAsync_Throws_WhenCancelledBeforeTheCall()
    {
        // Arrange
        using var cancellation = new CancellationTokenSource();
        await using var reader = new SseReader(new MemoryStream(Utf8("data: a\n\ndata: b\n\n")), cancellation.Token);
        Assert.True(await reader.MoveNextAsync());

        // Act
        await cancellation.CancelAsync();

        // Assert
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await reader.MoveNextAsync());
    }

    [Fact]
    public async Task MoveNextAsync_Throws_WhenCancelledWhileAReadWaits()
    {
        // Arrange
        var pipe = new Pipe();
        using var cancellation = new CancellationTokenSource();
        var pool = new TrackingPool();
        var reader = new SseReader(pipe.Reader.AsStream(), pool, SseReader.DefaultBufferSize, cancellation.Token);
        var move = reader.MoveNextAsync();
        Assert.False(move.IsCompleted);

        // Act
        await cancellation.CancelAsync();

        // Assert
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await move);
        await reader.DisposeAsync();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task DisposeAsync_ReturnsTheBuffers_AndIsIdempotent()
    {
        // Arrange: a long line grows the line buffer and a two-line event rents a data buffer.
        var pool = new TrackingPool();
        var stream = new MemoryStream(Utf8($"data: {new string('x', 100)}\ndata: y\n\ndata: more\n\n"));
        var reader = new SseReader(stream, pool, 16, CancellationToken.None);
        Assert.True(await reader.MoveNextAsync());
        Assert.True(pool.Rented >= 3);

        // Act
        await reader.DisposeAsync();
        await reader.DisposeAsync();

        // Assert
        Assert.Equal(0, pool.Outstanding);
        Assert.False(await reader.MoveNextAsync());
        Assert.True(stream.CanRead, "The stream belongs to the response's owner and must stay open.");
    }

    [Fact]
    public async Task MoveNextAsync_ReturnsTheBuffers_WhenTheStreamEnds()
    {
        // Arrange
        var pool = new TrackingPool();
        var reader = new SseReader(new ChunkedStream(Utf8("data: a\ndata: b\n\ndata: c\n"), 3), pool, 8, CancellationToken.None);

        // Act
        var count = 0;
        while (await reader.MoveNextAsync())
        {
            count++;
        }

        // Assert
        Assert.Equal(1, count);
        Assert.Equal(0, pool.Outstanding);
        await reader.DisposeAsync();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task MoveNextAsync_GrowsItsBuffer_WhileReadsKeepFillingIt()
    {
        // Arrange: an upstream faster than the relay, every read finding more than the buffer holds.
        var pool = new TrackingPool();
        var bytes = ManyEvents(3000);
        var reader = new SseReader(new MemoryStream(bytes), pool, SseReader.DefaultBufferSize, CancellationToken.None);

        // Act
        var events = 0;
        while (await reader.MoveNextAsync())
        {
            events++;
        }

        await reader.DisposeAsync();

        // Assert: every event, read with the larger buffer, and every buffer back in the pool.
        Assert.Equal((await ParseWithSseParserAsync(new MemoryStream(bytes))).Count, events);
        Assert.Equal(SseReader.BurstBufferSize, pool.Largest);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task MoveNextAsync_KeepsItsSmallBuffer_WhenReadsReturnLessThanItHasRoomFor()
    {
        // Arrange: a stream paced like a model, each read returning a little.
        var pool = new TrackingPool();
        var reader = new SseReader(new ChunkedStream(ManyEvents(3000), 512), pool, SseReader.DefaultBufferSize, CancellationToken.None);

        // Act
        while (await reader.MoveNextAsync())
        {
        }

        await reader.DisposeAsync();

        // Assert
        Assert.Equal(SseReader.DefaultBufferSize, pool.Largest);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task DisposeAsync_KeepsTheBuffer_UntilAPendingReadCompletes()
    {
        // Arrange
        var pool = new TrackingPool();
        var stream = new ManualReadStream([Utf8("data: late\n\n")]);
        var reader = new SseReader(stream, pool, SseReader.DefaultBufferSize, CancellationToken.None);
        var move = reader.MoveNextAsync();
        Assert.True(stream.ReadPending);

        // Act
        await reader.DisposeAsync();
        var outstandingWhileReading = pool.Outstanding;
        stream.Complete();

        // Assert: the stream could still write into the buffer, so it went back to the pool only afterwards.
        Assert.Equal(1, outstandingWhileReading);
        Assert.False(await move);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task DisposeAsync_ReturnsTheBuffer_WhenAPendingReadFails()
    {
        // Arrange
        var pool = new TrackingPool();
        var stream = new ManualReadStream([]);
        var reader = new SseReader(stream, pool, SseReader.DefaultBufferSize, CancellationToken.None);
        var move = reader.MoveNextAsync();

        // Act
        await reader.DisposeAsync();
        stream.Fail(new IOException("connection closed"));

        // Assert
        await Assert.ThrowsAsync<IOException>(async () => await move);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task MoveNextAsync_AllocatesNothingPerEvent_WhenEventsAreBuffered()
    {
        // Arrange
        var bytes = ClaudeEvents(1000).SelectMany(static e => e).ToArray();
        await ReadAllSynchronouslyAsync(new SseReader(new MemoryStream(bytes)));
        var stream = new MemoryStream(bytes);

        // Act: nothing here waits, so the whole read runs on this thread.
        var before = GC.GetAllocatedBytesForCurrentThread();
        var (events, dataBytes) = await ReadAllSynchronouslyAsync(new SseReader(stream));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Assert: the data is lent from the reader's buffer, so the reader itself is the only allocation.
        Assert.Equal(1000, events);
        Assert.True(dataBytes > 50_000);
        Assert.InRange(allocated, 0, 512);
    }

    [Fact]
    public async Task MoveNextAsync_AllocatesNothingPerEvent_WhenEachEventIsOneWaitingRead()
    {
        // Arrange: a first pass fills the pooled builder's cache, as a gateway's earlier streams do.
        var events = ClaudeEvents(1000);
        await ReadAllWaitingAsync(new ManualReadStream(events));
        var stream = new ManualReadStream(events);

        // Act: every read waits and is completed inline on this thread.
        var before = GC.GetAllocatedBytesForCurrentThread();
        var (count, dataBytes) = await ReadAllWaitingAsync(stream);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Assert: no state machine box per read and no array per event: only, once, the reader itself.
        Assert.Equal(1000, count);
        Assert.True(dataBytes > 50_000);
        Assert.InRange(allocated, 0, 512);
    }

    private static async ValueTask<(int Events, long DataBytes)> ReadAllSynchronouslyAsync(SseReader reader)
    {
        var events = 0;
        long dataBytes = 0;
        while (true)
        {
            var move = reader.MoveNextAsync();
            Assert.True(move.IsCompletedSuccessfully);
            if (!await move)
            {
                break;
            }

            events++;
            dataBytes += reader.Current.Data.Length;
        }

        await reader.DisposeAsync();
        return (events, dataBytes);
    }

    private static async ValueTask<(int Events, long DataBytes)> ReadAllWaitingAsync(ManualReadStream stream)
    {
        var reader = new SseReader(stream);
        var events = 0;
        long dataBytes = 0;
        while (true)
        {
            var move = reader.MoveNextAsync();
            Assert.False(move.IsCompleted);
            while (!move.IsCompleted)
            {
                stream.Complete();
            }

            if (!await move)
            {
                break;
            }

            events++;
            dataBytes += reader.Current.Data.Length;
        }

        await reader.DisposeAsync();
        return (events, dataBytes);
    }

    private static async Task<List<Item>> ParseWithSseParserAsync(Stream stream)
    {
        var items = new List<Item>();
        await foreach (var item in SseParser.Create(stream, static (_, data) => new ReadOnlyMemory<byte>(data.ToArray())).EnumerateAsync())
        {
            items.Add(Item.From(item));
        }

        return items;
    }

    private static async Task<List<Item>> ReadWithSseReaderAsync(Stream stream, int bufferSize)
    {
        var items = new List<Item>();
        await using var reader = new SseReader(stream, ArrayPool<byte>.Shared, bufferSize, CancellationToken.None);
        while (await reader.MoveNextAsync())
        {
            items.Add(Item.From(reader.Current));
        }

        return items;
    }

    private static async Task<List<SseItem<ReadOnlyMemory<byte>>>> ReadItemsAsync(byte[] bytes)
    {
        var items = new List<SseItem<ReadOnlyMemory<byte>>>();
        await using var reader = new SseReader(new MemoryStream(bytes));
        while (await reader.MoveNextAsync())
        {
            items.Add(reader.Current);
        }

        return items;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>A Claude stream: message_start, text deltas, the end; one array per event.</summary>
    private static List<byte[]> ClaudeEvents(int count)
    {
        var events = new List<byte[]>
        {
            Utf8("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n"),
            Utf8("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"),
        };
        for (var i = 0; i < count - 5; i++)
        {
            events.Add(Utf8($"event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"word{i}\"}}}}\n\n"));
        }

        events.Add(Utf8("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"));
        events.Add(Utf8("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":9}}\n\n"));
        events.Add(Utf8("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
        return events;
    }

    private static byte[] ManyEvents(int count)
    {
        var text = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            var ending = (i % 3) switch { 0 => "\n", 1 => "\r\n", _ => "\r" };
            text.Append(i % 7 == 0 ? $": keep-alive {i}{ending}" : string.Empty)
                .Append(i % 2 == 0 ? $"event: content_block_delta{ending}" : string.Empty)
                .Append($"data: {{\"i\":{i}}}{ending}")
                .Append(i % 5 == 0 ? $"data: second line {i}{ending}" : string.Empty)
                .Append(ending);
        }

        return Utf8(text.ToString());
    }

    /// <summary>What both parsers are compared on; data as Latin-1 so every byte shows and none is lost.</summary>
    private sealed record Item(string EventType, string Data, string? EventId, TimeSpan? ReconnectionInterval)
    {
        public static Item From(SseItem<ReadOnlyMemory<byte>> item) =>
            new(item.EventType, Encoding.Latin1.GetString(item.Data.Span), item.EventId, item.ReconnectionInterval);
    }

    /// <summary>A pool that hands out fresh arrays and fails on a return it did not rent or a second return.</summary>
    private sealed class TrackingPool : ArrayPool<byte>
    {
        private readonly HashSet<byte[]> _outstanding = new(ReferenceEqualityComparer.Instance);

        public int Rented { get; private set; }

        /// <summary>The largest length asked for so far.</summary>
        public int Largest { get; private set; }

        public int Outstanding
        {
            get
            {
                lock (_outstanding)
                {
                    return _outstanding.Count;
                }
            }
        }

        public override byte[] Rent(int minimumLength)
        {
            var array = new byte[minimumLength];
            lock (_outstanding)
            {
                _outstanding.Add(array);
                Rented++;
                Largest = Math.Max(Largest, minimumLength);
            }

            return array;
        }

        public override void Return(byte[] array, bool clearArray = false)
        {
            lock (_outstanding)
            {
                if (!_outstanding.Remove(array))
                {
                    throw new InvalidOperationException("An array was returned twice or was never rented.");
                }
            }
        }
    }
}
