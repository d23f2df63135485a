using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Batches;
using Qhaigc.Functions.Tests.Faults;
using Qhaigc.Functions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Qhaigc.Functions.Tests.Batches;

/// <summary>
/// A batch at Anthropic's limits (100,000 requests, just under 256 MB) is accepted with the gateway's memory bounded:
/// the body is generated as it is sent, and the test process's managed heap and working set are sampled throughout
/// (docs/batches.md#limits). Runs alone, so no other test's memory is counted as the gateway's.
/// </summary>
[Collection(SoakCollectionDefinition.Name)]
public sealed class BatchMemoryTests(ITestOutputHelper output)
{
    /// <summary>Each request's size: 100,000 of them make a body just under the 256 MB limit.</summary>
    private const int RequestBytes = 2_680;

    [Fact]
    public async Task Create_AtAnthropicsLimits_KeepsGatewayMemoryBounded()
    {
        // Arrange
        var environment = await GatewayTestEnvironment.CreateAsync();
        var (secret, _) = await environment.CreateKeyAsync();
        await using var host = await StandaloneGatewayHost.StartAsync(environment.Settings(), minimumLevel: LogLevel.Warning);
        using var http = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
        var content = new GeneratedBatch(BatchBodyReader.MaxRequests, RequestBytes);
        Assert.True(content.Length <= BatchBodyReader.MaxBodyBytes, $"{content.Length} bytes is over the limit.");
        Assert.True(content.Length > BatchBodyReader.MaxBodyBytes * 0.95, $"{content.Length} bytes is not near the limit.");
        var baseline = Snapshot();
        using var sampler = new PeakSampler();

        // Act
        using var request = BatchArrangement.Post(secret, "");
        request.Content = content;
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var peak = sampler.Stop();

        // Assert
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Contains("\"processing\":100000", body, StringComparison.Ordinal);
        var liveGrowth = peak.Live - baseline.Heap;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"body {content.Length / 1_048_576.0:0.0} MB, {BatchBodyReader.MaxRequests} requests; managed heap before {baseline.Heap / 1_048_576.0:0.0} MB, " +
            $"live peak {peak.Live / 1_048_576.0:0.0} MB, peak with garbage {peak.Heap / 1_048_576.0:0.0} MB; working set before {baseline.WorkingSet / 1_048_576.0:0} MB, " +
            $"peak {peak.WorkingSet / 1_048_576.0:0} MB"));
        Assert.True(liveGrowth < 48L * 1024 * 1024, $"The live managed heap grew {liveGrowth / 1_048_576.0:0.0} MB for a {content.Length / 1_048_576.0:0} MB batch.");
        Assert.True(peak.WorkingSet - baseline.WorkingSet < 96L * 1024 * 1024,
            $"The working set grew {(peak.WorkingSet - baseline.WorkingSet) / 1_048_576.0:0} MB for a {content.Length / 1_048_576.0:0} MB batch.");
    }

    private static (long Heap, long WorkingSet) Snapshot()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        return (GC.GetTotalMemory(forceFullCollection: true), process.WorkingSet64);
    }

    /// <summary>
    /// Samples the managed heap and the working set every 20 ms until stopped, keeping the highest of each; every 25th
    /// sample it collects first, so <c>Live</c> is the most the heap held that was still in use (the rest of the heap's
    /// peak is garbage the collector had not yet taken back).
    /// </summary>
    private sealed class PeakSampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _sampling;
        private long _heap;
        private long _live;
        private long _workingSet;

        public PeakSampler() => _sampling = Task.Run(async () =>
        {
            using var process = Process.GetCurrentProcess();
            for (var sample = 1; !_stop.IsCancellationRequested; sample++)
            {
                process.Refresh();
                _heap = Math.Max(_heap, GC.GetTotalMemory(forceFullCollection: false));
                _workingSet = Math.Max(_workingSet, process.WorkingSet64);
                if (sample % 25 == 0)
                {
                    _live = Math.Max(_live, GC.GetTotalMemory(forceFullCollection: true));
                }

                try
                {
                    await Task.Delay(20, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        });

        public (long Heap, long Live, long WorkingSet) Stop()
        {
            _stop.Cancel();
            _sampling.Wait();
            return (_heap, _live, _workingSet);
        }

        public void Dispose() => _stop.Dispose();
    }

    /// <summary>A batch body written as it is sent, never held: <c>count</c> requests of <c>size</c> bytes each.</summary>
    private sealed class GeneratedBatch : HttpContent
    {
        private const string Words = "the quick brown fox jumps over the lazy dog while the gateway reads every request of the batch one at a time ";
        private readonly int _count;
        private readonly byte[] _prefix = "{\"requests\":["u8.ToArray();
        private readonly byte[] _suffix = "]}"u8.ToArray();
        private readonly int _size;

        public GeneratedBatch(int count, int size)
        {
            _count = count;
            _size = size;
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
            Length = _prefix.Length + _suffix.Length + (count - 1) + (long)count * size;
        }

        public long Length { get; }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_prefix);
            var buffer = new MemoryStream(256 * 1024);
            for (var i = 0; i < _count; i++)
            {
                if (i > 0)
                {
                    buffer.WriteByte((byte)',');
                }

                buffer.Write(Request(i));
                if (buffer.Length > 200 * 1024)
                {
                    await stream.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
                    buffer.SetLength(0);
                }
            }

            buffer.Write(_suffix);
            await stream.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = Length;
            return true;
        }

        /// <summary>One request of exactly <see cref="_size"/> bytes (its text padded to fit).</summary>
        private byte[] Request(int i)
        {
            var head = $$"""{"custom_id":"request-{{i:D6}}","params":{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":""" + "\"";
            const string tail = "\"}]}}";
            var room = _size - head.Length - tail.Length;
            var text = new StringBuilder(room);
            while (text.Length < room)
            {
                text.Append(Words, 0, Math.Min(Words.Length, room - text.Length));
            }

            return Encoding.ASCII.GetBytes(head + text + tail);
        }
    }
}
