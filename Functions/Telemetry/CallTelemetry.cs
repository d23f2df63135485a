using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;
using Attr = Qhaigc.Functions.Telemetry.TelemetryNames.Attributes;

namespace Qhaigc.Functions.Telemetry;

/// <summary>
/// One call's spans and metrics (docs/telemetry.md): the server span from arrival to the response's end, a client span
/// per upstream attempt (GenAI semantic conventions), and the call's metric points when its usage record is made.
/// Every method does nothing but a null or flag check when no exporter listens. Only ids, names, numbers and error
/// types go in: never a key, a key hash, or request or answer text.
/// </summary>
public static class CallTelemetry
{
    /// <summary>The GenAI operation every forwarded call is (Messages and Chat Completions alike).</summary>
    public const string ChatOperation = "chat";

    /// <summary>
    /// Starts the call's server span, or returns null when nothing listens. A client's W3C <c>traceparent</c> is its
    /// parent, so the call continues the client's trace (and follows its sampling flag); without one, a recorded span
    /// around the call (the Functions worker's invocation) is. The span is not left as the current activity: the stages
    /// that log resume it (<see cref="GatewayTelemetry.Resume"/>), and it ends when the response has.
    /// </summary>
    public static Activity? StartServer(HttpContext httpContext, string requestId)
    {
        if (!GatewayTelemetry.Source.HasListeners())
        {
            return null;
        }

        var request = httpContext.Request;
        var parent = default(ActivityContext);
        if (request.Headers.TryGetValue("traceparent", out var traceparent) &&
            ActivityContext.TryParse(traceparent.ToString(), request.Headers["tracestate"].ToString(), isRemote: true, out var remote))
        {
            parent = remote;
        }

        var previous = Activity.Current;
        if (parent == default && previous is not { Recorded: true })
        {
            // No traceparent, and no recorded span around (the server's own unrecorded request activity would make the
            // sampler drop this one): the call starts its own trace.
            Activity.Current = null;
        }

        var span = GatewayTelemetry.Source.StartActivity(request.Method, ActivityKind.Server, parent);
        Activity.Current = previous;
        if (span is null)
        {
            return null;
        }

        if (span.IsAllDataRequested)
        {
            span.SetTag(Attr.HttpMethod, request.Method);
            span.SetTag(Attr.RequestId, requestId);
        }

        httpContext.Response.OnCompleted(static state =>
        {
            var (span, httpContext) = ((Activity, HttpContext))state;
            EndServer(span, httpContext);
            return Task.CompletedTask;
        }, (span, httpContext));
        return span;
    }

    /// <summary>
    /// Names the span after the route it serves (<c>POST /v1/messages</c>: the endpoints that record usage have no
    /// route parameters) and says which endpoint it is.
    /// </summary>
    public static void Route(Activity? span, string? path, string endpoint)
    {
        if (span is { IsAllDataRequested: true })
        {
            span.DisplayName = span.OperationName + " " + path;
            span.SetTag(Attr.HttpRoute, path);
            span.SetTag(Attr.Endpoint, endpoint);
        }
    }

    /// <summary>The key the call is made with: its id only.</summary>
    public static void Key(Activity? span, string keyId)
    {
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(Attr.KeyId, keyId);
        }
    }

    /// <summary>A call answered with an error before or instead of an upstream answer.</summary>
    public static void Refused(Activity? span, string? endpoint, string reason, int status, string errorType)
    {
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(Attr.RefusalReason, reason);
            span.SetTag(Attr.ErrorType, errorType);
        }

        if (GatewayTelemetry.Refusals.Enabled)
        {
            GatewayTelemetry.Refusals.Add(1, new TagList
            {
                { Attr.RefusalReason, reason },
                { Attr.Endpoint, endpoint },
                { Attr.StatusClass, GatewayTelemetry.StatusClass(status) },
                { Attr.ErrorType, errorType },
            });
        }
    }

    /// <summary>The refusal reason an error's type implies, where the caller does not say it.</summary>
    public static string RefusalReasonOf(ApiError error) => error.Type switch
    {
        ErrorTypes.Authentication => TelemetryNames.RefusalReasons.Auth,
        ErrorTypes.Permission => TelemetryNames.RefusalReasons.Permission,
        ErrorTypes.Billing => TelemetryNames.RefusalReasons.Caps,
        ErrorTypes.RateLimit => TelemetryNames.RefusalReasons.Limits,
        _ when error.Status >= 500 => TelemetryNames.RefusalReasons.Upstream,
        _ => TelemetryNames.RefusalReasons.Validation,
    };

    /// <summary>
    /// Starts an upstream attempt's client span (child of the call's span; current in the calling method, so an
    /// opted-in <c>traceparent</c> names it) and counts the attempt. A retry or a fallback is an event on the call's span.
    /// </summary>
    public static Activity? StartAttempt(Activity? call, IUpstream upstream, string upstreamModel, int attempt, string? previousUpstream)
    {
        var provider = ProviderOf(upstream);
        if (GatewayTelemetry.UpstreamAttempts.Enabled)
        {
            GatewayTelemetry.UpstreamAttempts.Add(1, new TagList
            {
                { Attr.Upstream, upstream.Name },
                { Attr.ProviderName, provider },
            });
        }

        if (call is null)
        {
            return null;
        }

        if (attempt > 1 && call.IsAllDataRequested)
        {
            var tags = new ActivityTagsCollection
            {
                [Attr.Attempt] = attempt,
                [Attr.Upstream] = upstream.Name,
            };
            var fallback = !string.Equals(previousUpstream, upstream.Name, StringComparison.Ordinal);
            call.AddEvent(new ActivityEvent(fallback ? TelemetryNames.Events.Fallback : TelemetryNames.Events.Retry, tags: tags));
        }

        var span = GatewayTelemetry.Source.StartActivity(ChatOperation + " " + upstreamModel, ActivityKind.Client, call.Context);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(Attr.OperationName, ChatOperation);
            span.SetTag(Attr.ProviderName, provider);
            span.SetTag(Attr.RequestModel, upstreamModel);
            span.SetTag(Attr.Upstream, upstream.Name);
            span.SetTag(Attr.Attempt, attempt);
        }

        return span;
    }

    /// <summary>An attempt that failed before the answer started: its span ends with the error's type.</summary>
    public static void AttemptFailed(Activity? attempt, string upstream, string errorType)
    {
        if (GatewayTelemetry.UpstreamFailures.Enabled)
        {
            GatewayTelemetry.UpstreamFailures.Add(1, new TagList
            {
                { Attr.Upstream, upstream },
                { Attr.ErrorType, errorType },
            });
        }

        if (attempt is not null)
        {
            attempt.SetTag(Attr.ErrorType, errorType);
            attempt.SetStatus(ActivityStatusCode.Error);
            attempt.Stop();
        }
    }

    /// <summary>An attempt ended with no verdict (the client left before it answered).</summary>
    public static void AttemptAbandoned(Activity? attempt)
    {
        if (attempt is not null)
        {
            attempt.SetTag(Attr.ErrorType, "cancelled");
            attempt.Stop();
        }
    }

    /// <summary>An upstream skipped because it rests, and for how long it still does.</summary>
    public static void Resting(Activity? call, string upstream, TimeSpan rest)
    {
        if (call is { IsAllDataRequested: true })
        {
            call.AddEvent(new ActivityEvent(TelemetryNames.Events.Resting, tags: new ActivityTagsCollection
            {
                [Attr.Upstream] = upstream,
                [Attr.RestSeconds] = Math.Round(rest.TotalSeconds, 3),
            }));
        }
    }

    /// <summary>An upstream's circuit opened during this call.</summary>
    public static void CircuitOpened(Activity? call, string upstream, TimeSpan rest)
    {
        if (call is { IsAllDataRequested: true })
        {
            call.AddEvent(new ActivityEvent(TelemetryNames.Events.CircuitOpened, tags: new ActivityTagsCollection
            {
                [Attr.Upstream] = upstream,
                [Attr.RestSeconds] = rest.TotalSeconds,
            }));
        }
    }

    /// <summary>
    /// The call is over and its record made: the usage goes on its spans (the last attempt's span ends here), and the
    /// call's metric points are recorded.
    /// </summary>
    public static void Finished(UsageRecord record, Activity? span, Activity? attempt, string? provider, bool keyIdInMetrics)
    {
        // GenAI conventions: for Anthropic, input tokens count the cache reads and writes too.
        var input = record.InputTokens + record.CacheReadInputTokens + record.CacheCreationInputTokens;
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(Attr.UsageState, record.State.ToWire());
            span.SetTag(Attr.Endpoint, record.Endpoint);
            span.SetTag(Attr.RequestModel, record.Model);
            span.SetTag(Attr.Upstream, record.Upstream);
            span.SetTag(Attr.Stream, record.Stream);
            span.SetTag(Attr.Attempts, record.UpstreamAttempts);
            SetUsage(span, record, input);
            if (record.ErrorType is { } errorType)
            {
                span.SetTag(Attr.ErrorType, errorType);
            }

            if (record.Stream && record.TimeToFirstByteMs is { } firstMs)
            {
                // Per call, so a backend can take percentiles (a metrics backend may keep only sums and counts).
                span.SetTag(Attr.TimeToFirstToken, firstMs / 1000);
            }
        }

        if (attempt is not null)
        {
            if (attempt.IsAllDataRequested)
            {
                SetUsage(attempt, record, input);
                attempt.SetTag(Attr.ResponseModel, record.UpstreamModel);
                attempt.SetTag(Attr.ResponseId, record.UpstreamRequestId);
                if (record.ErrorType is { } errorType)
                {
                    attempt.SetTag(Attr.ErrorType, errorType);
                    attempt.SetStatus(ActivityStatusCode.Error);
                }
            }

            attempt.Stop();
        }

        RecordMetrics(record, input, provider, keyIdInMetrics);
    }

    private static void RecordMetrics(UsageRecord record, long input, string? provider, bool keyIdInMetrics)
    {
        var keyId = keyIdInMetrics ? record.KeyId : null;
        if (GatewayTelemetry.RequestDuration.Enabled)
        {
            var statusClass = GatewayTelemetry.StatusClass(record.Status);
            var tags = new TagList
            {
                { Attr.OperationName, ChatOperation },
                { Attr.Endpoint, record.Endpoint },
                { Attr.RequestModel, MetricModel(record, record.Model) },
                { Attr.Upstream, record.Upstream },
                { Attr.StatusClass, statusClass },
                { Attr.UsageState, record.State.ToWire() },
            };
            AddOptional(ref tags, Attr.ErrorType, record.ErrorType);
            AddOptional(ref tags, Attr.KeyId, keyId);
            GatewayTelemetry.RequestDuration.Record(record.DurationMs / 1000, tags);
        }

        if (record.Upstream is null || record.UpstreamAttempts is null ||
            !(GatewayTelemetry.OperationDuration.Enabled || GatewayTelemetry.TokenUsage.Enabled || GatewayTelemetry.TimeToFirstToken.Enabled ||
              GatewayTelemetry.TimePerOutputToken.Enabled))
        {
            return;
        }

        var upstream = new TagList
        {
            { Attr.OperationName, ChatOperation },
            { Attr.ProviderName, provider },
            { Attr.RequestModel, MetricModel(record, record.UpstreamModel) },
            { Attr.Upstream, record.Upstream },
            { Attr.Endpoint, record.Endpoint },
        };
        AddOptional(ref upstream, Attr.KeyId, keyId);
        if (GatewayTelemetry.OperationDuration.Enabled)
        {
            var tags = upstream;
            AddOptional(ref tags, Attr.ErrorType, record.ErrorType);
            GatewayTelemetry.OperationDuration.Record(record.DurationMs / 1000, tags);
        }

        if (GatewayTelemetry.TokenUsage.Enabled && (input > 0 || record.OutputTokens > 0))
        {
            var inputTags = upstream;
            inputTags.Add(Attr.TokenType, "input");
            GatewayTelemetry.TokenUsage.Record(input, inputTags);
            var outputTags = upstream;
            outputTags.Add(Attr.TokenType, "output");
            GatewayTelemetry.TokenUsage.Record(record.OutputTokens, outputTags);
        }

        if (record.Stream && record.TimeToFirstByteMs is { } firstMs)
        {
            if (GatewayTelemetry.TimeToFirstToken.Enabled)
            {
                GatewayTelemetry.TimeToFirstToken.Record(firstMs / 1000, upstream);
            }

            if (GatewayTelemetry.TimePerOutputToken.Enabled && record.OutputTokens > 1 && record.DurationMs > firstMs)
            {
                GatewayTelemetry.TimePerOutputToken.Record((record.DurationMs - firstMs) / 1000 / (record.OutputTokens - 1), upstream);
            }
        }
    }

    /// <summary>
    /// A model name as a metric dimension: only one an upstream answered for (a model it serves), else <c>_OTHER</c>, so
    /// a client's made-up names (up to 256 characters each) cannot grow the number of series (docs/telemetry.md#metrics).
    /// </summary>
    private static string MetricModel(UsageRecord record, string? model) =>
        model is not null && record.Status is >= 200 and < 300 ? model : "_OTHER";

    /// <summary>What a priced call cost, by model and currency.</summary>
    public static void Priced(UsageRecord record)
    {
        if (GatewayTelemetry.Cost.Enabled && record.Cost is { } cost && cost > 0 && record.Currency is { } currency)
        {
            GatewayTelemetry.Cost.Add((double)cost, new TagList
            {
                { Attr.RequestModel, MetricModel(record, record.Model) },
                { Attr.Upstream, record.Upstream },
                { Attr.Currency, currency },
                { Attr.Endpoint, record.Endpoint },
            });
        }
    }

    /// <summary>The gateway's own time up to the answer's headers.</summary>
    public static void Overhead(TimeSpan overhead)
    {
        if (GatewayTelemetry.Overhead.Enabled)
        {
            GatewayTelemetry.Overhead.Record(overhead.TotalSeconds);
        }
    }

    /// <summary>The <c>gen_ai.provider.name</c> of an upstream kind.</summary>
    public static string ProviderOf(IUpstream upstream) => upstream switch
    {
        AnthropicUpstream => "anthropic",
        OpenAiUpstream => "openai",
        _ => "qhaigc.local",
    };

    private static void EndServer(Activity span, HttpContext httpContext)
    {
        var status = httpContext.Response.StatusCode;
        if (span.IsAllDataRequested)
        {
            if (span.GetTagItem(Attr.HttpRoute) is null && httpContext.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } route })
            {
                var path = route.StartsWith('/') ? route : "/" + route;
                span.DisplayName = span.OperationName + " " + path;
                span.SetTag(Attr.HttpRoute, path);
            }

            span.SetTag(Attr.HttpStatusCode, status);
            if (status >= 400 && span.GetTagItem(Attr.ErrorType) is null)
            {
                span.SetTag(Attr.ErrorType, status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        if (status >= 500)
        {
            span.SetStatus(ActivityStatusCode.Error);
        }

        span.Stop();
    }

    private static void SetUsage(Activity span, UsageRecord record, long input)
    {
        span.SetTag(Attr.InputTokens, input);
        span.SetTag(Attr.OutputTokens, record.OutputTokens);
        span.SetTag(Attr.CacheReadInputTokens, record.CacheReadInputTokens);
        span.SetTag(Attr.CacheCreationInputTokens, record.CacheCreationInputTokens);
    }

    private static void AddOptional(ref TagList tags, string name, string? value)
    {
        if (value is not null)
        {
            tags.Add(name, value);
        }
    }
}
