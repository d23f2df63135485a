using System.Net.ServerSentEvents;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Api;

/// <summary>How waiting for an upstream stream's first event ended.</summary>
public enum StreamStartOutcome
{
    /// <summary>The first event is here, or the wait timed out and the response commits with pings meanwhile.</summary>
    Started,

    /// <summary>The client went away.</summary>
    Cancelled,

    /// <summary>The upstream failed before its first event, or its first event was an error: a plain HTTP error.</summary>
    Failed,
}

/// <summary>The result of <see cref="UpstreamStreamStart.WaitAsync"/>.</summary>
public readonly record struct StreamStart(
    StreamStartOutcome Outcome, SseItem<byte[]>? FirstEvent = null, Task<bool>? Pending = null, ApiError? Error = null, Exception? Failure = null);
