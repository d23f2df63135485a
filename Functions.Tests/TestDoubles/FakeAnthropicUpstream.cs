using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.TestDoubles;

/// <summary>
/// A fake Anthropic API on a real Kestrel socket (127.0.0.1, free port). It answers <c>POST /v1/messages</c> with
/// recorded JSON and SSE fixtures chosen by the requested model, records what it received, and can pace, stall or cut
/// its streams on command, so tests see exactly what a client would through the gateway.
/// </summary>
public sealed class FakeAnthropicUpstream : IAsyncDisposable
{
    public const string UpstreamKey = "sk-ant-upstream-secret-for-tests";

    /// <summary>Models the fake knows; each selects one scripted answer.</summary>
    public static class Models
    {
        public const string Text = "fake-text";
        public const string ToolUse = "fake-tool";
        public const string Thinking = "fake-thinking";
        public const string Overloaded = "fake-overloaded";
        public const string RateLimited = "fake-rate-limited";

        /// <summary>
        /// Answers as <see cref="RateLimited"/> does, under another name: a 429 rests its model for the retry-after, so a
        /// test that needs a second first-hand 429 within it asks for another model.
        /// </summary>
        public const string RateLimitedToo = "fake-rate-limited-too";
        public const string BadRequest = "fake-bad-request";
        public const string HtmlError = "fake-html-error";
        public const string MidStreamError = "fake-midstream-error";
        public const string ErrorFirst = "fake-error-first";

        /// <summary>Streams the first two events of the text fixture, then waits for <see cref="ReleasePaced"/>.</summary>
        public const string Paced = "fake-paced";

        /// <summary>Streams one event, then never sends another until the client goes away.</summary>
        public const string Stall = "fake-stall";

        /// <summary>Sends the 200 and headers at once, then no event until <see cref="ReleasePaced"/>.</summary>
        public const string SilentStart = "fake-silent-start";

        /// <summary>Streams three events, then drops the connection.</summary>
        public const string Cut = "fake-cut";

        /// <summary>Streams message_start, the text block's start and two text deltas, then never another event.</summary>
        public const string StallAfterText = "fake-stall-after-text";

        /// <summary>Resets the connection before any byte of the answer (no status line).</summary>
        public const string ResetBeforeFirstByte = "fake-reset-before-first-byte";

        /// <summary>Sends the 200 and the stream headers, then resets before the first event.</summary>
        public const string ResetBeforeFirstEvent = "fake-reset-before-first-event";

        /// <summary>Answers 500 with a Claude <c>api_error</c> body.</summary>
        public const string ServerError = "fake-server-error";

        /// <summary>Answers 503 with no body.</summary>
        public const string Unavailable = "fake-unavailable";

        /// <summary>Answers 200 <c>application/json</c> whose body is not JSON (a stream request gets <c>text/html</c>).</summary>
        public const string NotJson = "fake-not-json";

        /// <summary>A stream whose first event's data is not JSON.</summary>
        public const string MalformedFirstEvent = "fake-malformed-first-event";

        /// <summary>A stream that starts well, then sends a delta whose data is cut JSON.</summary>
        public const string MalformedMidStream = "fake-malformed-mid-stream";

        /// <summary>
        /// A stream whose text block starts with a lone surrogate escape (<c>\ud800</c>): valid JSON that no UTF-8 text
        /// can carry, relayed as it is to a Claude client but not translatable for an OpenAI one.
        /// </summary>
        public const string UntranslatableMidStream = "fake-untranslatable-mid-stream";

        /// <summary>Waits <see cref="SlowFirstByteDelay"/> before it answers at all, then answers as <see cref="Text"/>.</summary>
        public const string SlowFirstByte = "fake-slow-first-byte";

        /// <summary>Waits for <see cref="ReleaseHeld"/> (or the client to leave) before it answers at all, then answers as <see cref="Text"/>.</summary>
        public const string Held = "fake-held";

        /// <summary>A long stream: message_start, then <see cref="LongDeltas"/> text deltas of 8 characters each, then the end.</summary>
        public const string LongStream = "fake-long";

        /// <summary>Answers 529 while <see cref="FailuresLeft"/> is above zero (counting down), then as <see cref="Text"/>.</summary>
        public const string Flaky = "fake-flaky";

        /// <summary>Resets before the first event while <see cref="FailuresLeft"/> is above zero, then streams as <see cref="Text"/>.</summary>
        public const string FlakyReset = "fake-flaky-reset";
    }

    /// <summary>Text deltas in a <see cref="Models.LongStream"/> stream.</summary>
    public const int LongDeltas = 2000;

    /// <summary>Output tokens a <see cref="Models.LongStream"/> stream reports (one per delta).</summary>
    public const int LongOutputTokens = LongDeltas;

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private TaskCompletionSource _pacedGate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _heldGate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _failuresLeft;
    private int _messageCalls;
    private int _heldCalls;
    private long _abortedAtTimestamp;

    private FakeAnthropicUpstream(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    /// <summary>The fake's Message Batches API (<c>/v1/messages/batches</c>).</summary>
    public FakeMessageBatches Batches { get; private init; } = null!;

    public IReadOnlyList<ReceivedRequest> Received => [.. _received];

    /// <summary>The account's Files API (<c>/v1/files</c>).</summary>
    public FakeFilesApi Files { get; } = new();

    /// <summary>Completes when a streaming answer saw its client (the gateway) go away.</summary>
    public Task StreamAborted => _aborted.Task;

    /// <summary>When the first aborted stream noticed (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), or 0.</summary>
    public long StreamAbortedAtTimestamp => Interlocked.Read(ref _abortedAtTimestamp);

    /// <summary>How many more calls of the flaky models fail.</summary>
    public int FailuresLeft
    {
        get => Volatile.Read(ref _failuresLeft);
        set => Volatile.Write(ref _failuresLeft, value);
    }

    /// <summary>When set, every <c>/v1/messages</c> call is answered with this status (an outage of this upstream).</summary>
    public int? OutageStatus { get; set; }

    /// <summary>The <c>retry-after</c> sent with <see cref="OutageStatus"/> answers, if any.</summary>
    public string? OutageRetryAfter { get; set; }

    /// <summary>How long <see cref="Models.SlowFirstByte"/> waits before answering.</summary>
    public TimeSpan SlowFirstByteDelay { get; set; } = TimeSpan.FromSeconds(1.5);

    /// <summary>
    /// Whether <see cref="Received"/> keeps every request. A soak turns it off: a hundred thousand kept requests would
    /// be the test's memory, measured as if it were the gateway's.
    /// </summary>
    public bool KeepRequests { get; set; } = true;

    /// <summary><c>POST /v1/messages</c> calls received so far.</summary>
    public int MessageCalls => Volatile.Read(ref _messageCalls);

    /// <summary>Settings that make a gateway use this fake as its <c>anthropic</c> upstream for the given model patterns.</summary>
    public IEnumerable<KeyValuePair<string, string?>> GatewaySettings(string name = "anthropic", string models = "*") =>
    [
        new($"Gateway:Upstreams:{name}:Kind", "anthropic"),
        new($"Gateway:Upstreams:{name}:BaseUrl", BaseUrl.ToString()),
        new($"Gateway:Upstreams:{name}:ApiKey", UpstreamKey),
        new($"Gateway:Upstreams:{name}:Models", models),
    ];

    public void ReleasePaced() => _pacedGate.TrySetResult();

    /// <summary>Lets every <see cref="Models.Held"/> call answer.</summary>
    public void ReleaseHeld() => _heldGate.TrySetResult();

    /// <summary>
    /// When set, every answer reports this many input tokens in place of its fixture's: an upstream that billed a
    /// prompt the gateway could not measure (a PDF by URL, say).
    /// </summary>
    public long? ReportedInputTokens { get; set; }

    /// <summary><see cref="Models.Held"/> calls that arrived and wait for <see cref="ReleaseHeld"/>.</summary>
    public int HeldCalls => Volatile.Read(ref _heldCalls);

    public static async Task<FakeAnthropicUpstream> StartAsync()
    {
        KnownSecrets.Register(UpstreamKey);
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        // Anthropic takes files of 500 MB; Kestrel's own 30 MB default would cut them.
        builder.WebHost.ConfigureKestrel(static kestrel => kestrel.Limits.MaxRequestBodySize = null);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var baseUrl = new Uri($"http://127.0.0.1:{port}/");
        var fake = new FakeAnthropicUpstream(app, baseUrl) { Batches = new FakeMessageBatches(baseUrl, UpstreamKey) };
        app.MapPost("/v1/messages", fake.HandleAsync);
        app.MapPost("/v1/messages/count_tokens", fake.CountTokensAsync);
        fake.Batches.Map(app);
        fake.Files.Map(app);
        await app.StartAsync();
        return fake;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        var headers = context.Request.Headers.ToDictionary(static h => h.Key.ToLowerInvariant(), static h => h.Value.ToString());
        if (KeepRequests)
        {
            _received.Enqueue(new ReceivedRequest(context.Request.Path + context.Request.QueryString, headers, body));
        }

        Interlocked.Increment(ref _messageCalls);

        using var document = System.Text.Json.JsonDocument.Parse(body);
        var model = document.RootElement.GetProperty("model").GetString();
        var stream = document.RootElement.TryGetProperty("stream", out var s) && s.ValueKind == System.Text.Json.JsonValueKind.True;
        var response = context.Response;
        response.Headers["request-id"] = "req_upstream_" + Guid.NewGuid().ToString("N")[..12];

        if (OutageStatus is { } outage)
        {
            await OutageAsync(context, outage);
            return;
        }

        var failing = model is Models.Flaky or Models.FlakyReset && Interlocked.Decrement(ref _failuresLeft) >= 0;
        switch (model)
        {
            case Models.ResetBeforeFirstByte:
                context.Abort();
                return;
            case Models.ServerError:
                await ErrorAsync(context, 500, """{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"""u8.ToArray());
                return;
            case Models.Unavailable:
                context.Response.StatusCode = 503;
                return;
            case Models.Flaky when failing:
                await ErrorAsync(context, 529, Fixtures.Bytes("Anthropic/overloaded.json"));
                return;
            case Models.NotJson:
                response.ContentType = stream ? "text/html" : "application/json";
                await response.WriteAsync("<html><body>Service temporarily unavailable</body></html>", context.RequestAborted);
                return;
            case Models.SlowFirstByte:
                try
                {
                    await Task.Delay(SlowFirstByteDelay, context.RequestAborted);
                }
                catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
                {
                    NoteAborted();
                    return;
                }

                break;
            case Models.Held:
                Interlocked.Increment(ref _heldCalls);
                try
                {
                    await _heldGate.Task.WaitAsync(context.RequestAborted);
                }
                catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
                {
                    NoteAborted();
                    return;
                }

                break;
            case Models.Overloaded:
                await ErrorAsync(context, 529, Fixtures.Bytes("Anthropic/overloaded.json"), retryAfter: "3");
                return;
            case Models.RateLimited or Models.RateLimitedToo:
                await ErrorAsync(context, 429, """{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"""u8.ToArray(), retryAfter: "7");
                return;
            case Models.BadRequest:
                await ErrorAsync(context, 400, """{"type":"error","error":{"type":"invalid_request_error","message":"messages.0.content.0.text: upstream says no"}}"""u8.ToArray());
                return;
            case Models.HtmlError:
                response.StatusCode = 502;
                response.ContentType = "text/html";
                await response.WriteAsync("<html><body>Bad gateway</body></html>");
                return;
        }

        if (document.RootElement.TryGetProperty(ReportedUsage, out var reported))
        {
            await WriteReportedUsageAsync(context, model!, stream, reported.GetRawText());
            return;
        }

        if (!stream)
        {
            response.ContentType = "application/json";
            var json = model == Models.ToolUse
                ? """{"id":"msg_01Tool","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{"location":"San Francisco, CA","unit":"fahrenheit"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":0,"cache_read_input_tokens":128,"output_tokens":89}}"""u8.ToArray()
                : Fixtures.Bytes("Anthropic/text.json");
            await response.Body.WriteAsync(Encoding.UTF8.GetBytes(Reported(Encoding.UTF8.GetString(json))), context.RequestAborted);
            return;
        }

        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        var fixture = model switch
        {
            Models.ToolUse => "Anthropic/tool_use.sse",
            Models.Thinking => "Anthropic/thinking.sse",
            Models.MidStreamError => "Anthropic/midstream_error.sse",
            _ => "Anthropic/text.sse",
        };

        if (model is Models.ResetBeforeFirstEvent || (model is Models.FlakyReset && failing))
        {
            await response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(100, context.RequestAborted);
            context.Abort();
            return;
        }

        if (model == Models.MalformedFirstEvent)
        {
            await WriteEventAsync(context, "message_start", "{\"type\":\"message_start\",\"message\":{\"id\":");
            return;
        }

        if (model == Models.LongStream)
        {
            await WriteLongAsync(context);
            return;
        }

        if (model == Models.ErrorFirst)
        {
            await WriteEventAsync(context, "error", """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""");
            return;
        }

        var events = Fixtures.Events(fixture);
        try
        {
            if (model == Models.SilentStart)
            {
                await response.Body.FlushAsync(context.RequestAborted);
                await _pacedGate.Task.WaitAsync(context.RequestAborted);
            }

            for (var i = 0; i < events.Count; i++)
            {
                if (model == Models.Paced && i == 2)
                {
                    await _pacedGate.Task.WaitAsync(context.RequestAborted);
                }

                if ((model == Models.Stall && i == 1) || (model == Models.StallAfterText && i == 5))
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }

                if (model == Models.MalformedMidStream && i == 3)
                {
                    await WriteEventAsync(context, "content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_del");
                    continue;
                }

                if (model == Models.UntranslatableMidStream && i == 1)
                {
                    await WriteEventAsync(context, "content_block_start",
                        "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\\ud800\"}}");
                    continue;
                }

                if (model == Models.Cut && i == 3)
                {
                    // Let the events already written reach the gateway before the reset, as on a real network.
                    await Task.Delay(300, context.RequestAborted);
                    context.Abort();
                    return;
                }

                await WriteEventAsync(context, events[i].Event, Reported(events[i].Data));
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            NoteAborted();
        }
    }

    private string Reported(string json) => ReportedInputTokens is { } tokens
        ? System.Text.RegularExpressions.Regex.Replace(json, "\"input_tokens\":[0-9]+", "\"input_tokens\":" + tokens.ToString(System.Globalization.CultureInfo.InvariantCulture))
        : json;

    private void NoteAborted()
    {
        Interlocked.CompareExchange(ref _abortedAtTimestamp, System.Diagnostics.Stopwatch.GetTimestamp(), 0);
        _aborted.TrySetResult();
    }

    /// <summary>A long answer, paced only by the reader: the gateway's writes wait for a slow client, and so do these.</summary>
    private async Task WriteLongAsync(HttpContext context)
    {
        try
        {
            await WriteEventAsync(context, "message_start", """{"type":"message_start","message":{"id":"msg_long","type":"message","role":"assistant","content":[],"model":"fake-long","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":11,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}""");
            await WriteEventAsync(context, "content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""");
            for (var i = 0; i < LongDeltas; i++)
            {
                await context.Response.WriteAsync(
                    $"event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{i % 100000000:D8}\"}}}}\n\n",
                    context.RequestAborted);
                if (i % 50 == 0)
                {
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                }
            }

            await WriteEventAsync(context, "content_block_stop", """{"type":"content_block_stop","index":0}""");
            await WriteEventAsync(context, "message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":11,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":""" + LongOutputTokens.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}}");
            await WriteEventAsync(context, "message_stop", """{"type":"message_stop"}""");
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
            NoteAborted();
        }
    }

    /// <summary>What <c>count_tokens</c> answers: 1234 unless a test says otherwise, so tests can tell a forwarded count from an estimate.</summary>
    public long CountedInputTokens { get; set; } = 1234;

    /// <summary>When set, <c>count_tokens</c> answers this status with an <c>overloaded_error</c> instead of a count.</summary>
    public int? CountTokensFailure { get; set; }

    /// <summary>An <see cref="OutageStatus"/> answer: the error Anthropic sends with that status.</summary>
    private async Task OutageAsync(HttpContext context, int outage)
    {
        var type = outage switch
        {
            429 => "rate_limit_error",
            401 => "authentication_error",
            402 => "billing_error",
            403 => "permission_error",
            _ => "overloaded_error",
        };
        var message = outage is 401 ? "invalid x-api-key" : "Outage";
        await ErrorAsync(context, outage, Encoding.UTF8.GetBytes("""{"type":"error","error":{"type":""" + "\"" + type + "\",\"message\":\"" + message + "\"}}"), OutageRetryAfter);
    }

    /// <summary>Counted tokens (<see cref="CountedInputTokens"/>).</summary>
    private async Task CountTokensAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var headers = context.Request.Headers.ToDictionary(static h => h.Key.ToLowerInvariant(), static h => h.Value.ToString());
        _received.Enqueue(new ReceivedRequest(context.Request.Path + context.Request.QueryString, headers, buffer.ToArray()));
        if (CountTokensFailure is { } status)
        {
            await ErrorAsync(context, status, Fixtures.Bytes("Anthropic/overloaded.json"));
            return;
        }

        if (OutageStatus is { } outage)
        {
            await OutageAsync(context, outage);
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("{\"input_tokens\":" + CountedInputTokens.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}");
    }

    /// <summary>
    /// A request body property (passed through by the gateway like any unknown field) whose object the fake answers as
    /// its <c>usage</c>, whatever the model: whole, or as a stream's final <c>message_delta</c> usage.
    /// </summary>
    public const string ReportedUsage = "fake_usage";

    private static async Task WriteReportedUsageAsync(HttpContext context, string model, bool stream, string usage)
    {
        var response = context.Response;
        if (!stream)
        {
            response.ContentType = "application/json";
            await response.WriteAsync(
                """{"id":"msg_usage","type":"message","role":"assistant","model":""" + "\"" + model + "\"" +
                ""","content":[{"type":"text","text":"Done."}],"stop_reason":"end_turn","stop_sequence":null,"usage":""" + usage + "}",
                context.RequestAborted);
            return;
        }

        response.ContentType = "text/event-stream; charset=utf-8";
        await WriteEventAsync(context, "message_start",
            """{"type":"message_start","message":{"id":"msg_usage","type":"message","role":"assistant","content":[],"model":""" + "\"" + model + "\"" +
            ""","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":1}}}""");
        await WriteEventAsync(context, "content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""");
        await WriteEventAsync(context, "content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Done."}}""");
        await WriteEventAsync(context, "content_block_stop", """{"type":"content_block_stop","index":0}""");
        await WriteEventAsync(context, "message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":""" + usage + "}");
        await WriteEventAsync(context, "message_stop", """{"type":"message_stop"}""");
    }

    private static async Task WriteEventAsync(HttpContext context, string name, string data)
    {
        await context.Response.WriteAsync($"event: {name}\ndata: {data}\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static async Task ErrorAsync(HttpContext context, int status, byte[] body, string? retryAfter = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        if (retryAfter is not null)
        {
            context.Response.Headers["retry-after"] = retryAfter;
        }

        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        _pacedGate.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>A request the fake received: path with query, headers (lower-case names) and body bytes.</summary>
public sealed record ReceivedRequest(string PathAndQuery, IReadOnlyDictionary<string, string> Headers, byte[] Body);
