using System.Net.ServerSentEvents;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Qhaigc.Functions.Protocol.Sse;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Benchmarks;

/// <summary>
/// Reading an upstream's events, <see cref="SseParser"/> (what the upstreams used before) against
/// <see cref="SseReader"/> (what they use now), per event: time and allocated bytes are for one event of a
/// 200-event Claude stream. Buffered: the whole stream is already there (a saturated connection). One per read:
/// every read waits and then returns exactly one event, as when a model streams token by token.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class SseReaderBenchmarks
{
    private const int Events = 200;

    private byte[] _bytes = [];
    private ManualReadStream _oneEventPerRead = new([]);

    [GlobalSetup]
    public void Setup()
    {
        _bytes = ClaudeEvents.Bytes(Events);
        _oneEventPerRead = new ManualReadStream(ClaudeEvents.PerEvent(Events));
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    [BenchmarkCategory("Buffered")]
    public async Task<long> ParserBuffered()
    {
        long bytes = 0;
        await foreach (var item in SseParser.Create(new MemoryStream(_bytes), static (_, data) => new ReadOnlyMemory<byte>(data.ToArray())).EnumerateAsync())
        {
            bytes += item.Data.Length;
        }

        return bytes;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    [BenchmarkCategory("Buffered")]
    public async Task<long> ReaderBuffered()
    {
        long bytes = 0;
        await using var reader = new SseReader(new MemoryStream(_bytes));
        while (await reader.MoveNextAsync())
        {
            bytes += reader.Current.Data.Length;
        }

        return bytes;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    [BenchmarkCategory("OnePerRead")]
    public async Task<long> ParserOnePerRead()
    {
        _oneEventPerRead.Rewind();
        await using var events = SseParser.Create(_oneEventPerRead, static (_, data) => new ReadOnlyMemory<byte>(data.ToArray())).EnumerateAsync().GetAsyncEnumerator();
        return await DriveAsync(events, _oneEventPerRead);
    }

    [Benchmark(OperationsPerInvoke = Events)]
    [BenchmarkCategory("OnePerRead")]
    public async Task<long> ReaderOnePerRead()
    {
        _oneEventPerRead.Rewind();
        await using var reader = new SseReader(_oneEventPerRead);
        return await DriveAsync(reader, _oneEventPerRead);
    }

    /// <summary>Hands each waiting read its event on this thread, so the continuation runs inline and nothing else is timed.</summary>
    private static async ValueTask<long> DriveAsync<TEvents>(TEvents events, ManualReadStream stream)
        where TEvents : IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>>
    {
        long bytes = 0;
        while (true)
        {
            var move = events.MoveNextAsync();
            while (!move.IsCompleted)
            {
                stream.Complete();
            }

            if (!await move)
            {
                return bytes;
            }

            bytes += events.Current.Data.Length;
        }
    }
}
