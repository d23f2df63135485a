using System.Net.ServerSentEvents;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Upstreams;

/// <summary>How the start of an upstream answer ended, after every retry and fallback it was allowed.</summary>
public enum UpstreamStartOutcome
{
    /// <summary>A whole message: <see cref="UpstreamStart.Response"/> holds its body.</summary>
    Message,

    /// <summary>A stream whose first event is here (<see cref="UpstreamStart.FirstEvent"/>); the rest follow from the response.</summary>
    Streaming,

    /// <summary>
    /// A stream whose first event did not come within the first-event timeout: the client's <c>200</c> may go out now,
    /// with keep-alives, and <see cref="UpstreamStart.Later"/> says how the start ended (never with another attempt).
    /// </summary>
    Waiting,

    /// <summary>No answer to relay: <see cref="UpstreamStart.Error"/> is what the client gets, <c>retry-after</c> included.</summary>
    Failed,

    /// <summary>The client went away.</summary>
    ClientGone,
}

/// <summary>
/// The typed outcome of <see cref="ResilientUpstreamCaller.StartAsync"/>, the one stage that owns the start of an
/// upstream answer (docs/architecture.md). An error never travels as bytes: it is an <see cref="ApiError"/> until the
/// API layer writes it in the client's format.
/// </summary>
public readonly record struct UpstreamStart(
    UpstreamStartOutcome Outcome,
    UpstreamResponse? Response = null,
    SseItem<ReadOnlyMemory<byte>>? FirstEvent = null,
    Task<UpstreamStart>? Later = null,
    ApiError? Error = null,
    Exception? Failure = null)
{
    public static UpstreamStart ClientGone { get; } = new(UpstreamStartOutcome.ClientGone);

    public static UpstreamStart Failed(ApiError error, Exception? failure = null) => new(UpstreamStartOutcome.Failed, Error: error, Failure: failure);
}
