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
/// Retried: connection errors, <c>429</c>/<c>500</c>/<c>502</c>/<c>503</c>/<c>529</c> answers, an upstream that refuses
/// the gateway's credentials, and a stream that resets, ends, or sends an unreadable or retryable <c>error</c> event
/// before its first event. Each attempt goes to the next available candidate (pool by pool, each in the call's
/// affinity order, see <see cref="UpstreamRouter"/>), wrapping round to the first; what each failure rests is
/// <see cref="UpstreamHealth"/>'s; a repeated upstream waits an
/// exponential backoff with jitter, or its <c>retry-after</c> when that is within <see cref="ResilienceOptions.MaxRetryAfter"/>.
/// Attempts and total wait are bounded, since the client's SDK retries too.
/// </remarks>
public sealed partial class ResilientUpstreamCaller(
    UpstreamHealth health, TimeProvider time, IOptions<GatewayOptions> options, ILogger<ResilientUpstreamCaller> logger)
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

    internal UpstreamHealth Health => health;

    /// <summary>Statuses worth another attempt: rate limits, server errors, overload (docs/faults.md).</summary>
    public static bool IsRetryable(int status) => status is 429 or 500 or 502 or 503 or 529;

    /// <summary>
    /// What a client gets in place of an upstream's refusal of the gateway's own credentials: a retryable error that
    /// never says the client's key is bad (docs/faults.md#health).
    /// </summary>
    public static ApiError CredentialsRefused { get; } = new(503, ErrorTypes.Api, "The upstream is unavailable; try again shortly.");

    /// <summary>
    /// True when an upstream refused the gateway's own credentials, not the client's request: <c>401</c>, <c>403</c>,
    /// <c>402</c> or a <c>billing_error</c>, or Anthropic's "Your credit balance is too low" (a <c>400</c>, matched at the
    /// start of the message only: a 400 may quote the client's own input, and a tenant must not be able to take a
    /// deployment out with a prompt). The client's key was checked by the gateway; the upstream only ever sees the
    /// gateway's (docs/faults.md#health).
    /// </summary>
    public static bool RefusesCredentials(ApiError error) =>
        error.Status is 401 or 402 or 403 ||
        error.Type is ErrorTypes.Authentication or ErrorTypes.Billing or ErrorTypes.Permission ||
        (error.Status == 400 && error.Type == ErrorTypes.InvalidRequest &&
         error.Message.StartsWith("Your credit balance is too low", StringComparison.Ordinal));

    internal static partial class Log
    {
        [LoggerMessage(EventId = 2201, Level = LogLevel.Warning,
            Message = "Call {RequestId}: upstream {Upstream} failed before the first byte (attempt {Attempt}: {Failure})")]
        public static partial void FailedBeforeFirstByte(ILogger logger, string requestId, string upstream, int attempt, string failure);

        [LoggerMessage(EventId = 2204, Level = LogLevel.Warning,
            Message = "Call {RequestId}: every upstream for the model is resting; answered without an attempt")]
        public static partial void AllResting(ILogger logger, string requestId);

        [LoggerMessage(EventId = 2205, Level = LogLevel.Warning,
            Message = "Call {RequestId}: giving up after {Attempts} attempt(s), last on upstream {Upstream} ({Failure})")]
        public static partial void GaveUp(ILogger logger, string requestId, int attempts, string? upstream, string failure);
    }
}
