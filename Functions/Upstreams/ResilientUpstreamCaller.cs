using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// The one place where an upstream call is retried, sent to a fallback upstream, or not sent at all because its
/// upstream is resting. Everything happens before the first byte reaches the client: a failure after it is relayed as
/// it is (docs/faults.md). Every endpoint that forwards a Messages call reaches upstreams only through it.
/// </summary>
/// <remarks>
/// Retried: connection errors, <c>429</c>/<c>500</c>/<c>502</c>/<c>503</c>/<c>529</c> answers, and a stream that
/// resets, ends, or sends an unreadable or retryable <c>error</c> event before its first event. Each attempt goes to
/// the next candidate upstream (most specific first), wrapping round to the first; a repeated upstream waits an
/// exponential backoff with jitter, or its <c>retry-after</c> when that is within <see cref="ResilienceOptions.MaxRetryAfter"/>.
/// Attempts and total wait are bounded, since the client's SDK retries too.
/// </remarks>
public sealed partial class ResilientUpstreamCaller(
    UpstreamCircuitBreakers breakers, TimeProvider time, IOptions<GatewayOptions> options, ILogger<ResilientUpstreamCaller> logger)
{
    private readonly ResilienceOptions _options = options.Value.Resilience;
    private readonly TimeSpan _firstEventTimeout = options.Value.Streaming.FirstEventTimeout;

    /// <summary>
    /// Starts the call's answer on the first upstream of <paramref name="routes"/> that can take it, retrying and
    /// falling back as above, and says how it started (<see cref="UpstreamStart"/>). The record's <c>Upstream</c>,
    /// <c>UpstreamModel</c>, <c>UpstreamRequestId</c> and attempt count follow the attempts, so they name the upstream
    /// that finally answered. Waiting on upstreams is charged to <paramref name="waits"/>.
    /// </summary>
    public Task<UpstreamStart> StartAsync(
        IReadOnlyList<UpstreamRoute> routes, MessagesRequest request, CallRecorder call, WaitClock? waits, CancellationToken aborted)
    {
        ArgumentOutOfRangeException.ThrowIfZero(routes.Count);
        return new ResilientCall(this, routes, request, call, waits, aborted).StartAsync(_firstEventTimeout);
    }

    internal ResilienceOptions Options => _options;

    internal TimeProvider Time => time;

    internal ILogger Logger => logger;

    internal CircuitBreaker BreakerFor(IUpstream upstream) => breakers.For(upstream.Name);

    /// <summary>Statuses worth another attempt: rate limits, server errors, overload (docs/faults.md).</summary>
    public static bool IsRetryable(int status) => status is 429 or 500 or 502 or 503 or 529;

    internal static partial class Log
    {
        [LoggerMessage(EventId = 2201, Level = LogLevel.Warning,
            Message = "Call {RequestId}: upstream {Upstream} failed before the first byte (attempt {Attempt}: {Failure})")]
        public static partial void FailedBeforeFirstByte(ILogger logger, string requestId, string upstream, int attempt, string failure);

        [LoggerMessage(EventId = 2202, Level = LogLevel.Warning,
            Message = "Upstream {Upstream}: circuit opened after repeated failures; resting for {RestSeconds} s")]
        public static partial void CircuitOpened(ILogger logger, string upstream, double restSeconds);

        [LoggerMessage(EventId = 2203, Level = LogLevel.Information, Message = "Upstream {Upstream}: circuit closed, the upstream answers again")]
        public static partial void CircuitClosed(ILogger logger, string upstream);

        [LoggerMessage(EventId = 2204, Level = LogLevel.Warning,
            Message = "Call {RequestId}: every upstream for the model is resting; answered without an attempt")]
        public static partial void AllResting(ILogger logger, string requestId);

        [LoggerMessage(EventId = 2205, Level = LogLevel.Warning,
            Message = "Call {RequestId}: giving up after {Attempts} attempt(s), last on upstream {Upstream} ({Failure})")]
        public static partial void GaveUp(ILogger logger, string requestId, int attempts, string? upstream, string failure);
    }
}
