using System.Collections.Concurrent;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Tests.TestDoubles;

/// <summary>
/// An <see cref="IUpstream"/> whose attempts answer one after another as the test scripted them: an error, a whole
/// message, a <see cref="ScriptedEvents"/> stream, or an exception. An attempt beyond the script fails the test. Every
/// stream it handed out is kept, so a test can check which ones the gateway released.
/// </summary>
public sealed class ScriptedUpstream(string name = "scripted") : IUpstream
{
    private readonly ConcurrentQueue<Func<CancellationToken, Task<UpstreamResponse>>> _script = new();
    private readonly ConcurrentQueue<ScriptedEvents> _streams = new();
    private readonly ConcurrentQueue<string> _models = new();
    private int _calls;

    public string Name { get; } = name;

    /// <summary>Attempts made on this upstream so far.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>The model name each attempt was sent under.</summary>
    public IReadOnlyList<string> UpstreamModels => [.. _models];

    /// <summary>Every stream handed out, in attempt order.</summary>
    public IReadOnlyList<ScriptedEvents> Streams => [.. _streams];

    public ScriptedUpstream Answers(Func<CancellationToken, Task<UpstreamResponse>> attempt)
    {
        _script.Enqueue(attempt);
        return this;
    }

    public ScriptedUpstream Error(int status, string type, double? retryAfterSeconds = null) =>
        Answers(_ => Task.FromResult(UpstreamResponse.Failed(
            new ApiError(status, type, $"Scripted {status}.") { RetryAfterSeconds = retryAfterSeconds }, $"req_{Name}_{Calls}")));

    public ScriptedUpstream Message(string json) =>
        Answers(_ => Task.FromResult(UpstreamResponse.Message(System.Text.Encoding.UTF8.GetBytes(json), $"req_{Name}_{Calls}")));

    /// <summary>A stream answer; its reads that wait end when the attempt's token is cancelled.</summary>
    public ScriptedUpstream Stream(ScriptedEvents events) =>
        Answers(cancellationToken =>
        {
            _streams.Enqueue(events.CancelledBy(cancellationToken));
            return Task.FromResult(UpstreamResponse.Stream(events, $"req_{Name}_{Calls}"));
        });

    public Task<UpstreamResponse> SendMessagesAsync(MessagesRequest request, string upstreamModel, WaitClock? waits, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        _models.Enqueue(upstreamModel);
        return _script.TryDequeue(out var attempt)
            ? attempt(cancellationToken)
            : throw new InvalidOperationException($"Upstream {Name}: attempt {Calls} was not scripted.");
    }
}
