using System.IO.Pipelines;
using System.Net.ServerSentEvents;
using BenchmarkDotNet.Attributes;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Protocol.Sse;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Benchmarks;

/// <summary>
/// The passthrough stream's CPU work for one answer of N events, the way the gateway does it: parse the upstream's
/// bytes with <see cref="SseReader"/> (as <c>AnthropicUpstream</c> does), count usage, write each event to a pipe.
/// Allocated bytes per operation divided by N is the per-event cost (compare with the event's own bytes).
/// </summary>
[MemoryDiagnoser]
public class SseRelayBenchmarks
{
    private byte[] _stream = [];
    private SseItem<ReadOnlyMemory<byte>>[] _events = [];
    private Pipe _pipe = new();

    [Params(20, 200)]
    public int Events { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _stream = ClaudeEvents.Bytes(Events);
        _events = [.. SseParser.Create(new MemoryStream(_stream), static (_, data) => new ReadOnlyMemory<byte>(data.ToArray())).Enumerate()];
        _pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
    }

    /// <summary>Parsing alone: what reading an upstream stream costs.</summary>
    [Benchmark]
    public async Task<int> Parse()
    {
        var count = 0;
        await using var reader = new SseReader(new MemoryStream(_stream));
        while (await reader.MoveNextAsync())
        {
            count += reader.Current.Data.Length;
        }

        return count;
    }

    /// <summary>Usage counting over already parsed events: only message_start, message_delta and error are parsed.</summary>
    [Benchmark]
    public long CountUsage()
    {
        var meter = new UsageMeter();
        foreach (var item in _events)
        {
            meter.ObserveEvent(item.EventType, item.Data.Span);
        }

        return meter.Usage.OutputTokens;
    }

    /// <summary>The check that each event is one JSON object, over already parsed events (<c>CheckedClaudeEvents</c>).</summary>
    [Benchmark]
    public int Check()
    {
        var objects = 0;
        foreach (var item in _events)
        {
            objects += JsonShape.IsObject(item.Data.Span) ? 1 : 0;
        }

        return objects;
    }

    /// <summary>Writing already parsed events into a pipe, as the relay writes into the response.</summary>
    [Benchmark]
    public long Write()
    {
        var writer = _pipe.Writer;
        foreach (var item in _events)
        {
            SseWriter.Write(writer, item.EventType, item.Data.Span);
        }

        return Drain();
    }

    /// <summary>Parse, check, count and write: the whole relay without the sockets.</summary>
    [Benchmark(Baseline = true)]
    public async Task<long> Relay()
    {
        var meter = new UsageMeter();
        var writer = _pipe.Writer;
        await using var reader = new SseReader(new MemoryStream(_stream));
        while (await reader.MoveNextAsync())
        {
            var item = reader.Current;
            if (!JsonShape.IsObject(item.Data.Span))
            {
                throw new InvalidDataException("Not an object.");
            }

            meter.ObserveEvent(item.EventType, item.Data.Span);
            SseWriter.Write(writer, item.EventType, item.Data.Span);
        }

        return Drain() + meter.Usage.OutputTokens;
    }

    private long Drain()
    {
        // With no pause threshold the flush completes at once.
        var flush = _pipe.Writer.FlushAsync();
        if (!flush.IsCompleted)
        {
            throw new InvalidOperationException("The pipe should never pause.");
        }

        _pipe.Reader.TryRead(out var result);
        var length = result.Buffer.Length;
        _pipe.Reader.AdvanceTo(result.Buffer.End);
        return length;
    }
}
