namespace Qhaigc.Functions.Telemetry;

/// <summary>
/// Every name the gateway's telemetry carries: its trace source and meter, its instruments and their attributes
/// (docs/telemetry.md). The <c>gen_ai.*</c> names follow the OpenTelemetry GenAI semantic conventions, which are still
/// in development (https://opentelemetry.io/docs/specs/semconv/gen-ai/); the <c>qhaigc.*</c> names are the gateway's
/// own. The workbook and alert queries in infra/ may only name what is listed here (a test checks it).
/// </summary>
public static class TelemetryNames
{
    /// <summary>The <c>ActivitySource</c> and <c>Meter</c> name.</summary>
    public const string Source = "Qhaigc.Functions";

    /// <summary>Instrument names.</summary>
    public static class Metrics
    {
        public const string TokenUsage = "gen_ai.client.token.usage";
        public const string OperationDuration = "gen_ai.client.operation.duration";
        public const string RequestDuration = "gen_ai.server.request.duration";
        public const string TimeToFirstToken = "gen_ai.server.time_to_first_token";
        public const string TimePerOutputToken = "gen_ai.server.time_per_output_token";
        public const string Overhead = "qhaigc.gateway.overhead";
        public const string Cost = "qhaigc.cost";
        public const string Refusals = "qhaigc.refusals";
        public const string UpstreamAttempts = "qhaigc.upstream.attempts";
        public const string UpstreamFailures = "qhaigc.upstream.failures";
        public const string UpstreamResting = "qhaigc.upstream.resting";
        public const string UsageQueueLength = "qhaigc.usage.queue_length";
        public const string UsageRecordsLost = "qhaigc.usage.records_lost";
        public const string SettlementsLost = "qhaigc.settlements.lost";

        /// <summary>Every instrument the gateway creates.</summary>
        public static IReadOnlyList<string> All { get; } =
        [
            TokenUsage, OperationDuration, RequestDuration, TimeToFirstToken, TimePerOutputToken, Overhead, Cost, Refusals,
            UpstreamAttempts, UpstreamFailures, UpstreamResting, UsageQueueLength, UsageRecordsLost, SettlementsLost,
        ];
    }

    /// <summary>Span, event and metric attribute names.</summary>
    public static class Attributes
    {
        public const string OperationName = "gen_ai.operation.name";
        public const string ProviderName = "gen_ai.provider.name";
        public const string RequestModel = "gen_ai.request.model";
        public const string ResponseModel = "gen_ai.response.model";
        public const string ResponseId = "gen_ai.response.id";
        public const string InputTokens = "gen_ai.usage.input_tokens";
        public const string OutputTokens = "gen_ai.usage.output_tokens";
        public const string CacheReadInputTokens = "gen_ai.usage.cache_read.input_tokens";
        public const string CacheCreationInputTokens = "gen_ai.usage.cache_creation.input_tokens";
        public const string TokenType = "gen_ai.token.type";
        public const string ErrorType = "error.type";
        public const string HttpRoute = "http.route";
        public const string HttpMethod = "http.request.method";
        public const string HttpStatusCode = "http.response.status_code";
        public const string ServerAddress = "server.address";
        public const string RequestId = "qhaigc.request_id";
        public const string KeyId = "qhaigc.key_id";
        public const string Endpoint = "qhaigc.endpoint";
        public const string Upstream = "qhaigc.upstream";
        public const string StatusClass = "qhaigc.status_class";
        public const string UsageState = "qhaigc.usage.state";
        public const string Stream = "qhaigc.stream";
        public const string Attempt = "qhaigc.attempt";
        public const string Attempts = "qhaigc.upstream.attempts";
        public const string RefusalReason = "qhaigc.refusal.reason";
        public const string Currency = "qhaigc.currency";
        public const string RestSeconds = "qhaigc.rest_seconds";
        public const string TimeToFirstToken = "qhaigc.time_to_first_token";

        /// <summary>Every attribute the gateway sets.</summary>
        public static IReadOnlyList<string> All { get; } =
        [
            OperationName, ProviderName, RequestModel, ResponseModel, ResponseId, InputTokens, OutputTokens, CacheReadInputTokens,
            CacheCreationInputTokens, TokenType, ErrorType, HttpRoute, HttpMethod, HttpStatusCode, ServerAddress, RequestId, KeyId,
            Endpoint, Upstream, StatusClass, UsageState, Stream, Attempt, Attempts, RefusalReason, Currency, RestSeconds, TimeToFirstToken,
        ];
    }

    /// <summary>Span event names.</summary>
    public static class Events
    {
        public const string Retry = "qhaigc.retry";
        public const string Fallback = "qhaigc.fallback";
        public const string Resting = "qhaigc.upstream.resting";
        public const string CircuitOpened = "qhaigc.circuit.opened";
    }

    /// <summary>Values of <see cref="Attributes.RefusalReason"/>.</summary>
    public static class RefusalReasons
    {
        public const string Auth = "auth";
        public const string Validation = "validation";
        public const string Permission = "permission";
        public const string Limits = "limits";
        public const string Caps = "caps";
        public const string Upstream = "upstream";
    }
}
