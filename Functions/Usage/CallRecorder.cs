using System.Diagnostics;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Telemetry;

namespace Qhaigc.Functions.Usage;

/// <summary>
/// Collects what one call's usage record needs while the call runs and submits the record once, when the call is
/// over (after the response is complete: never on the way to the client's first byte).
/// </summary>
public sealed class CallRecorder(IUsageSink sink, string requestId, string keyId, string endpoint, DateTimeOffset startedAt, long startTimestamp)
{
    private int _finished;

    public string RequestId { get; } = requestId;

    /// <summary>The endpoint the record names (<c>chat.completions</c> becomes <c>chat.completions+claude</c> once its style is read).</summary>
    public string Endpoint { get; set; } = endpoint;

    public string? Model { get; set; }

    public string? Upstream { get; set; }

    public string? UpstreamModel { get; set; }

    public string? UpstreamRequestId { get; set; }

    public bool Stream { get; set; }

    public int? ClientRetryCount { get; set; }

    public string? ClientSessionId { get; set; }

    /// <summary>Upstream attempts made for the call (retries and fallbacks included); 0 when none was.</summary>
    public int UpstreamAttempts { get; set; }

    public double? TimeToFirstByteMs { get; private set; }

    /// <summary>
    /// The request while an upstream attempt holds it (set as the attempt is sent, cleared when the upstream answers
    /// it with an error): a client that leaves before any usage comes back still owes what the upstream bills for it.
    /// </summary>
    public MessagesRequest? RequestWithUpstream { get; set; }

    /// <summary>
    /// The input an abandoned call is billed for (the request, the model the upstream was asked for); null: the
    /// tokenizer's estimate (docs/usage-records.md#abandoned-calls).
    /// </summary>
    public Func<MessagesRequest, string?, long>? AbandonedInput { get; set; }

    /// <summary>
    /// The <c>speed</c> and <c>inference_geo</c> the request asked for: an estimated record (the upstream's usage never
    /// came) is priced at them, since the upstream bills what was asked (docs/usage-records.md#abandoned-calls).
    /// </summary>
    public (string? Speed, string? InferenceGeo) RequestedOptions { get; set; }

    /// <summary>The call's server span (null without telemetry): its trace id goes in the record (docs/telemetry.md).</summary>
    public Activity? Span { get; init; }

    /// <summary>The span of the upstream attempt that answered, ended with the call.</summary>
    public Activity? AttemptSpan { get; set; }

    /// <summary>The <c>gen_ai.provider.name</c> of <see cref="Upstream"/>.</summary>
    public string? Provider { get; set; }

    /// <summary>Whether the call's metrics name its key (<c>Gateway:Telemetry:KeyIdInMetrics</c>).</summary>
    public bool KeyIdInMetrics { get; set; }

    /// <summary>A file operation's size in bytes (docs/files.md#usage-and-prices); null for every other call.</summary>
    public long? Bytes { get; set; }

    public bool IsFinished => Volatile.Read(ref _finished) != 0;

    public void MarkFirstByte() => TimeToFirstByteMs ??= Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds;

    /// <summary>Submits the record; later calls do nothing, so every path can call it safely.</summary>
    public void Finish(int status, UsageState state, string? errorType = null, TokenUsage? usage = null)
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }

        if (state == UsageState.Cancelled && RequestWithUpstream is { } sent && usage?.Raw is null)
        {
            // The client left before any usage arrived, but the upstream had the whole prompt and bills it: the call
            // is recorded at its input estimate, flagged estimated (docs/usage-records.md#abandoned-calls).
            usage ??= new TokenUsage();
            usage.InputTokens = Math.Max(usage.InputTokens, AbandonedInput?.Invoke(sent, UpstreamModel) ?? TokenEstimator.Shared.EstimateRequest(sent.Root));
            usage.Estimated = true;
        }

        if (usage is { Estimated: true })
        {
            usage.Speed ??= RequestedOptions.Speed;
            usage.InferenceGeo ??= RequestedOptions.InferenceGeo;
        }

        var record = new UsageRecord
        {
            RequestId = RequestId,
            KeyId = keyId,
            Endpoint = Endpoint,
            StartedAt = startedAt,
            UpstreamRequestId = UpstreamRequestId,
            Model = Model,
            Upstream = Upstream,
            UpstreamModel = UpstreamModel,
            Stream = Stream,
            Status = status,
            ErrorType = errorType,
            State = state,
            InputTokens = usage?.InputTokens ?? 0,
            OutputTokens = usage?.OutputTokens ?? 0,
            CacheCreationInputTokens = usage?.CacheCreationInputTokens ?? 0,
            CacheCreation5mInputTokens = usage?.CacheCreation5mInputTokens,
            CacheCreation1hInputTokens = usage?.CacheCreation1hInputTokens,
            CacheReadInputTokens = usage?.CacheReadInputTokens ?? 0,
            WebSearchRequests = usage?.WebSearchRequests,
            WebFetchRequests = usage?.WebFetchRequests,
            ServiceTier = usage?.ServiceTier,
            Speed = usage?.Speed,
            InferenceGeo = usage?.InferenceGeo,
            RawUsage = usage?.Raw,
            Estimated = usage?.Estimated ?? false,
            DurationMs = Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds,
            TimeToFirstByteMs = TimeToFirstByteMs,
            ClientRetryCount = ClientRetryCount,
            ClientSessionId = ClientSessionId,
            UpstreamAttempts = UpstreamAttempts == 0 ? null : UpstreamAttempts,
            TraceId = Span?.TraceId.ToHexString(),
            Bytes = Bytes,
        };
        sink.Submit(record);
        CallTelemetry.Finished(record, Span, AttemptSpan, Provider, KeyIdInMetrics);
    }
}
