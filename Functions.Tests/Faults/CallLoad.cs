using System.Collections.Concurrent;
using System.Net;
using Qhaigc.Functions.Tests.Infrastructure;
using Models = Qhaigc.Functions.Tests.TestDoubles.FakeAnthropicUpstream.Models;

namespace Qhaigc.Functions.Tests.Faults;

/// <summary>One call of a <see cref="CallLoad"/>: its request id (when an answer came), status, and whether it streamed.</summary>
public sealed record LoadedCall(string? RequestId, int Status, bool Stream, bool BodyComplete);

/// <summary>
/// Calls flowing through a gateway while a test injects a fault: a few workers, each alternating streaming and
/// non-streaming calls with one key, until stopped. Every answer is kept, so the test can match it to the ledger.
/// </summary>
public sealed class CallLoad : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<LoadedCall> _calls = new();
    private readonly ConcurrentQueue<Exception> _failures = new();
    private readonly Task[] _workers;
    private int _completed;

    public CallLoad(Uri gateway, string secret, int workers = 4, string model = Models.Text)
    {
        _workers = Enumerable.Range(0, workers).Select(worker => Task.Run(() => RunAsync(gateway, secret, model, worker))).ToArray();
    }

    /// <summary>Calls that got an answer (any status), in completion order.</summary>
    public IReadOnlyList<LoadedCall> Calls => [.. _calls];

    /// <summary>Calls that failed without any answer (connection refused while the gateway was stopped, say).</summary>
    public IReadOnlyList<Exception> Failures => [.. _failures];

    public int Completed => Volatile.Read(ref _completed);

    /// <summary>Waits until at least <paramref name="count"/> more calls have been answered.</summary>
    public async Task WaitForMoreAsync(int count, TimeSpan timeout)
    {
        var target = Completed + count;
        var deadline = DateTime.UtcNow + timeout;
        while (Completed < target)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Only {Completed} calls answered; waited for {target}.");
            await Task.Delay(20);
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task RunAsync(Uri gateway, string secret, string model, int worker)
    {
        using var http = RawClient.Create(gateway);
        var stream = worker % 2 == 0;
        while (!_stop.IsCancellationRequested)
        {
            stream = !stream;
            try
            {
                // Not cancelled by the stop: a call that started is allowed to finish, as a real client's would.
                using var response = await http.SendAsync(RawClient.Messages(secret, RawClient.Body(model, stream)), HttpCompletionOption.ResponseHeadersRead);
                var body = await response.Content.ReadAsStringAsync();
                var complete = response.StatusCode == HttpStatusCode.OK &&
                               (stream ? body.EndsWith("data: {\"type\":\"message_stop\"}\n\n", StringComparison.Ordinal) : body.EndsWith('}'));
                _calls.Enqueue(new LoadedCall(RawClient.Header(response, "request-id"), (int)response.StatusCode, stream, complete));
                Interlocked.Increment(ref _completed);
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException or TaskCanceledException)
            {
                _failures.Enqueue(exception);
                await Task.Delay(20);
            }
        }
    }
}
