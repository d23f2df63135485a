using System.Net.ServerSentEvents;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// What an upstream answered, in Claude's format: an error (before any byte went to the client), a whole message,
/// or a stream of Claude SSE events. Disposing it releases the upstream connection, which cancels the upstream
/// call if it is still running.
/// </summary>
public sealed class UpstreamResponse : IAsyncDisposable
{
    private readonly IDisposable? _owner;

    private UpstreamResponse(ApiError? error, byte[]? body, IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>>? events, string? upstreamRequestId, IDisposable? owner)
    {
        Error = error;
        Body = body;
        Events = events;
        UpstreamRequestId = upstreamRequestId;
        _owner = owner;
    }

    public ApiError? Error { get; }

    /// <summary>A non-streaming message, as JSON bytes.</summary>
    public byte[]? Body { get; }

    /// <summary>The events of a streaming answer, each with its name and data bytes.</summary>
    public IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>>? Events { get; }

    public string? UpstreamRequestId { get; }

    /// <summary>True when the upstream could not be reached at all (refused, reset, timed out before the first byte).</summary>
    public bool Unreachable { get; private init; }

    /// <summary>What the answer's <c>anthropic-ratelimit-*</c> headers said, when it sent them (docs/faults.md#health).</summary>
    public RateLimitHeadroom? RateLimit { get; private set; }

    /// <summary>Attaches what the answer's headers said about the upstream's rate limits.</summary>
    public UpstreamResponse WithRateLimit(RateLimitHeadroom? rateLimit)
    {
        RateLimit = rateLimit;
        return this;
    }

    /// <summary>
    /// True when the usage in the answer is the gateway's estimate (a translated upstream that reported none); read it
    /// once the answer is complete, since a stream only knows at its end.
    /// </summary>
    public bool UsageEstimated => _usageEstimated?.Invoke() ?? false;

    private Func<bool>? _usageEstimated;

    public static UpstreamResponse Failed(ApiError error, string? upstreamRequestId = null) => new(error, null, null, upstreamRequestId, null);

    /// <summary>A failure to reach the upstream at all, which rests the whole deployment when repeated.</summary>
    public static UpstreamResponse Unreached(ApiError error) => new(error, null, null, null, null) { Unreachable = true };

    public static UpstreamResponse Message(byte[] body, string? upstreamRequestId = null, bool usageEstimated = false) =>
        new(null, body, null, upstreamRequestId, null) { _usageEstimated = usageEstimated ? static () => true : null };

    public static UpstreamResponse Stream(
        IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>> events, string? upstreamRequestId = null, IDisposable? owner = null, Func<bool>? usageEstimated = null) =>
        new(null, null, events, upstreamRequestId, owner) { _usageEstimated = usageEstimated };

    public async ValueTask DisposeAsync()
    {
        // Close the connection first: that cancels the upstream call and faults a read still pending, so the
        // enumerator can then be disposed without waiting on the network.
        _owner?.Dispose();
        if (Events is not null)
        {
            try
            {
                await Events.DisposeAsync();
            }
            catch (Exception exception) when (exception is IOException or OperationCanceledException or HttpRequestException
                                                  or InvalidOperationException or NotSupportedException)
            {
                // A read was still pending or the connection is already gone; either way nothing is left to release.
            }
        }
    }
}
