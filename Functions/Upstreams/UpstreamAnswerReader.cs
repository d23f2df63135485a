using System.Net.ServerSentEvents;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// The part of an upstream exchange that differs by protocol, for <see cref="UpstreamHttp"/>: which header carries
/// the upstream's request id, how its errors map to Claude's, and how a whole answer or an event stream becomes a
/// Claude-format <see cref="UpstreamResponse"/>.
/// </summary>
public abstract class UpstreamAnswerReader
{
    /// <summary>The response header that carries the upstream's own request id.</summary>
    public abstract string RequestIdHeader { get; }

    /// <summary>An error the upstream answered, as the client will see it.</summary>
    public virtual Protocol.ApiError MapError(Protocol.ApiError answered) => answered;

    /// <summary>A whole 200 answer.</summary>
    public abstract UpstreamResponse ReadMessage(byte[] body, string? upstreamRequestId);

    /// <summary>
    /// A 200 event stream; <paramref name="owner"/> releases the connection and must be handed to the response.
    /// </summary>
    public abstract UpstreamResponse ReadStream(IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>> events, string? upstreamRequestId, IDisposable owner);
}
