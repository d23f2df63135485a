using System.Diagnostics;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Api;

/// <summary>
/// The one relay loop (<see cref="StreamRelay"/>) in-process, on a <see cref="DefaultHttpContext"/> whose body keeps
/// what was written: passthrough and translated formats, errors in the stream, keep-alives while the start is pending,
/// a client that leaves, and the usage record written last (docs/wire-contract.md, docs/usage-records.md).
/// </summary>
public sealed class StreamRelayTests
{
    private const string Ping = "event: ping\ndata: {\"type\": \"ping\"}\n\n";
    private const string UpstreamModel = "claude-sonnet-4-5-20250929";
    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly RecordingUsageSink _sink = new();
    private readonly DefaultHttpContext _context = new();
    private readonly RecordingStream _body = new();
    private readonly GatewayContext _gateway;
    private readonly CallRecorder _call;

    public StreamRelayTests()
    {
        _context.Response.Body = _body;
        _gateway = GatewayContext.Arrive(_context, _time);
        _call = new CallRecorder(_sink, _gateway.RequestId, "key", "messages", _time.GetUtcNow(), Stopwatch.GetTimestamp());
    }

    private static string TextSse => Fixtures.Text("Anthropic/text.sse");

    [Theory]
    [InlineData(null, UpstreamModel)]
    [InlineData(UpstreamModel, UpstreamModel)]
    [InlineData("claude-sonnet-4-5", "claude-sonnet-4-5")]
    public async Task ExecuteAsync_RelaysClaudeEventsAsTheyCame_WithTheClientsModelName(string? modelToRestore, string expectedModel)
    {
        // Arrange
        var events = ScriptedEvents.FromSse(TextSse);

        // Act
        await Relay(await StreamingAsync(events), new ClaudeAnswerFormat(modelToRestore)).ExecuteAsync(_context);

        // Assert: the same bytes, but for the model name in message_start; the record has the upstream's usage.
        Assert.Equal(TextSse.Replace($"\"model\":\"{UpstreamModel}\"", $"\"model\":\"{expectedModel}\"", StringComparison.Ordinal), _body.Text);
        Assert.Equal((200, "text/event-stream; charset=utf-8", "no-cache"),
            (_context.Response.StatusCode, _context.Response.ContentType, _context.Response.Headers.CacheControl.ToString()));
        var record = Assert.Single(_sink.Records);
        Assert.Equal((UsageState.Complete, 200, (string?)null), (record.State, record.Status, record.ErrorType));
        Assert.Equal((25L, 15L, false), (record.InputTokens, record.OutputTokens, record.Estimated));
        Assert.NotNull(record.TimeToFirstByteMs);
        Assert.True(events.Disposed);
    }

    [Fact]
    public async Task ExecuteAsync_RewritesAnUpstreamErrorEventWithTheRequestId_AndTruncates()
    {
        // Arrange
        var events = ScriptedEvents.FromSse(Fixtures.Text("Anthropic/midstream_error.sse"));

        // Act
        await Relay(await StreamingAsync(events), new ClaudeAnswerFormat(null)).ExecuteAsync(_context);

        // Assert: the error event is the last one, in the gateway's envelope.
        var (name, data) = Fixtures.ParseEvents(_body.Text)[^1];
        Assert.Equal("error", name);
        AssertClaudeError(data, ErrorTypes.Overloaded, "Overloaded");
        var record = Assert.Single(_sink.Records);
        Assert.Equal((UsageState.Truncated, 200, ErrorTypes.Overloaded), (record.State, record.Status, record.ErrorType));
        Assert.Equal(30, record.InputTokens);
        Assert.True(record.Estimated);
        Assert.True(events.Disposed);
    }

    [Fact]
    public async Task ExecuteAsync_EndsWithOneOverloadedError_WhenTheUpstreamConnectionDrops()
    {
        // Arrange
        var events = Begun().Fail(new IOException("connection reset"));

        // Act
        await Relay(await StreamingAsync(events), new ClaudeAnswerFormat(null)).ExecuteAsync(_context);

        // Assert: what came is relayed, then one error event.
        var relayed = Fixtures.ParseEvents(_body.Text);
        Assert.Equal(["message_start", "content_block_start", "content_block_delta", "error"], relayed.Select(static e => e.Event));
        AssertClaudeError(relayed[^1].Data, ErrorTypes.Overloaded, "The upstream connection was lost before the message was complete.");
        var record = Assert.Single(_sink.Records);
        Assert.Equal((UsageState.Truncated, 200, ErrorTypes.Overloaded), (record.State, record.Status, record.ErrorType));
        Assert.Equal(3, record.InputTokens);
        Assert.True(events.Disposed);
    }

    [Fact]
    public async Task ExecuteAsync_EndsWithAnError_WhenTheStreamEndsWithoutMessageStop()
    {
        // Arrange
        var events = Begun();

        // Act
        await Relay(await StreamingAsync(events), new ClaudeAnswerFormat(null)).ExecuteAsync(_context);

        // Assert
        var relayed = Fixtures.ParseEvents(_body.Text);
        Assert.Equal("error", relayed[^1].Event);
        AssertClaudeError(relayed[^1].Data, ErrorTypes.Api, "The upstream ended the stream before the message was complete.");
        var record = Assert.Single(_sink.Records);
        Assert.Equal((UsageState.Truncated, ErrorTypes.Api), (record.State, record.ErrorType));
    }

    [Fact]
    public async Task ExecuteAsync_SendsKeepAlivesWhileTheStartIsPending_ThenTheEvents()
    {
        // Arrange: the response commits before the upstream's first event.
        var later = new TaskCompletionSource<UpstreamStart>(TaskCreationOptions.RunContinuationsAsynchronously);
        var relay = Relay(new UpstreamStart(UpstreamStartOutcome.Waiting, Later: later.Task), new ClaudeAnswerFormat(null)).ExecuteAsync(_context);

        // Act: two intervals of silence, then the stream starts.
        await _time.AdvanceUntilAsync(() => LeadingPings(_body.Text) >= 2, PingInterval);
        later.SetResult(await StreamingAsync(ScriptedEvents.FromSse(TextSse)));
        await relay.WaitAsync(TimeSpan.FromSeconds(10));

        // Assert: pings first, then every event (the first one too), and a complete record.
        var text = _body.Text;
        var pings = LeadingPings(text);
        Assert.True(pings >= 2, text);
        Assert.Equal(TextSse, text[(pings * Ping.Length)..]);
        var record = Assert.Single(_sink.Records);
        Assert.Equal((UsageState.Complete, 25L, 15L), (record.State, record.InputTokens, record.OutputTokens));
        Assert.True(_gateway.Waits.Ticks > 0);
    }

    [Fact]
    public async Task ExecuteAsync_WritesTheErrorInTheStream_WhenTheStartFailsAfterWaiting()
    {
        // Arrange
        var later = new TaskCompletionSource<UpstreamStart>(TaskCreationOptions.RunContinuationsAsynchronously);
        var relay = Relay(new UpstreamStart(UpstreamStartOutcome.Waiting, Later: later.Task), new ClaudeAnswerFormat(null)).ExecuteAsync(_context);
        await _time.AdvanceUntilAsync(() => LeadingPings(_body.Text) >= 1, PingInterval);

        // Act
        later.SetResult(UpstreamStart.Failed(new ApiError(529, ErrorTypes.Overloaded, "Overloaded") { RetryAfterSeconds = 3 }));
        await relay.WaitAsync(TimeSpan.FromSeconds(10));

        // Assert: the 200 is out, so the error is an event, and the call is truncated with its type.
        var (name, data) = Fixtures.ParseEvents(_body.Text)[^1];
        Assert.Equal("error", name);
        AssertClaudeError(data, ErrorTypes.Overloaded, "Overloaded");
        var record = Assert.Single(_sink.Records);
        Assert.Equal((UsageState.Truncated, 200, ErrorTypes.Overloaded), (record.State, record.Status, record.ErrorType));
    }

    [Fact]
    public async Task ExecuteAsync_WritesChatChunks_InTheChatFormat()
    {
        // Arrange
        var events = ScriptedEvents.FromSse(TextSse);

        // Act
        await Relay(await StreamingAsync(events), new ChatAnswerFormat("gpt-test", stream: true, includeUsage: false, _time)).ExecuteAsync(_context);

        // Assert: data lines only, chunks of the client's model carrying the text, then [DONE].
        var payloads = DataLines(_body.Text);
        Assert.Equal("[DONE]", payloads[^1]);
        var chunks = payloads[..^1].Select(static p => JsonDocument.Parse(p).RootElement).ToArray();
        Assert.All(chunks, static c => Assert.Equal(("chat.completion.chunk", "gpt-test"), (c.GetProperty("object").GetString(), c.GetProperty("model").GetString())));
        var text = string.Concat(chunks.Select(static c => c.GetProperty("choices") is { ValueKind: JsonValueKind.Array } choices && choices.GetArrayLength() > 0 &&
            choices[0].GetProperty("delta").TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString() : ""));
        Assert.Equal("Hello, world — ünïcödé ✓", text);
        var record = Assert.Single(_sink.Records);
        Assert.Equal((UsageState.Complete, 25L, 15L), (record.State, record.InputTokens, record.OutputTokens));
    }

    [Fact]
    public async Task ExecuteAsync_EndsAChatStreamWithAnErrorLine_WhenTheUpstreamSendsAnError()
    {
        // Arrange
        var events = ScriptedEvents.FromSse(Fixtures.Text("Anthropic/midstream_error.sse"));

        // Act
        await Relay(await StreamingAsync(events), new ChatAnswerFormat("gpt-test", stream: true, includeUsage: false, _time)).ExecuteAsync(_context);

        // Assert
        var last = JsonDocument.Parse(DataLines(_body.Text)[^1]).RootElement.GetProperty("error");
        Assert.Equal((ErrorTypes.Overloaded, "Overloaded"), (last.GetProperty("type").GetString(), last.GetProperty("message").GetString()));
        Assert.DoesNotContain("[DONE]", _body.Text, StringComparison.Ordinal);
        var record = Assert.Single(_sink.Records);
        Assert.Equal((UsageState.Truncated, ErrorTypes.Overloaded), (record.State, record.ErrorType));
    }

    [Fact]
    public async Task ExecuteAsync_RecordsACancelledCall_WhenTheClientLeavesMidStream()
    {
        // Arrange: the upstream goes silent after a few events; its pending read ends with the request's abort.
        using var aborted = new CancellationTokenSource();
        _context.RequestAborted = aborted.Token;
        var events = Begun().WaitFor(new TaskCompletionSource().Task).Event("message_stop", """{"type":"message_stop"}""");
        var relay = Relay(await StreamingAsync(events.CancelledBy(aborted.Token)), new ClaudeAnswerFormat(null)).ExecuteAsync(_context);
        await events.Waiting.WaitAsync(TimeSpan.FromSeconds(10));

        // Act
        await aborted.CancelAsync();
        await relay.WaitAsync(TimeSpan.FromSeconds(10));

        // Assert: no error event for a client that is gone; the upstream is released, the usage so far recorded.
        Assert.DoesNotContain("event: error", _body.Text, StringComparison.Ordinal);
        var record = Assert.Single(_sink.Records);
        Assert.Equal((UsageState.Cancelled, 200, 3L, true), (record.State, record.Status, record.InputTokens, record.Estimated));
        Assert.True(events.Disposed);
    }

    [Fact]
    public async Task ExecuteAsync_RecordsACancelledCall_WhenTheClientsPipeIsCompleted()
    {
        // Arrange: the server's side of the response is closed before the abort is signalled.
        var pipe = new Pipe();
        await pipe.Reader.CompleteAsync();
        _context.Features.Set<IHttpResponseBodyFeature>(new PipeBody(pipe.Writer));
        var events = ScriptedEvents.FromSse(TextSse);

        // Act
        await Relay(await StreamingAsync(events), new ClaudeAnswerFormat(null)).ExecuteAsync(_context);

        // Assert
        var record = Assert.Single(_sink.Records);
        Assert.Equal((UsageState.Cancelled, 200), (record.State, record.Status));
        Assert.True(events.Disposed);
    }

    /// <summary>message_start (3 input tokens), a text block's start and one delta, and no end.</summary>
    private static ScriptedEvents Begun() => new ScriptedEvents()
        .Event("message_start", """{"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":3,"output_tokens":1}}}""")
        .Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""")
        .Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Partial"}}""");

    /// <summary>A start as <see cref="ResilientUpstreamCaller"/> hands it over: the first event already read.</summary>
    private static async Task<UpstreamStart> StreamingAsync(ScriptedEvents events)
    {
        Assert.True(await events.MoveNextAsync());
        return new UpstreamStart(UpstreamStartOutcome.Streaming, UpstreamResponse.Stream(events, "req_upstream"), events.Current);
    }

    private StreamRelay Relay(UpstreamStart start, AnswerFormat format) =>
        new(start, format, _gateway, _call, new StreamingOptions { PingInterval = PingInterval }, _time, NullLogger.Instance);

    private void AssertClaudeError(string data, string type, string message)
    {
        var root = JsonDocument.Parse(data).RootElement;
        Assert.Equal("error", root.GetProperty("type").GetString());
        Assert.Equal((type, message), (root.GetProperty("error").GetProperty("type").GetString(), root.GetProperty("error").GetProperty("message").GetString()));
        Assert.Equal(_gateway.RequestId, root.GetProperty("request_id").GetString());
    }

    private static int LeadingPings(string text)
    {
        var count = 0;
        while (text.AsSpan(count * Ping.Length).StartsWith(Ping, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static string[] DataLines(string text)
    {
        var blocks = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(blocks, static b => Assert.StartsWith("data: ", b, StringComparison.Ordinal));
        return blocks.Select(static b => b["data: ".Length..]).ToArray();
    }

    /// <summary>A response body over a pipe the test controls (one whose reading side is already gone, say).</summary>
    private sealed class PipeBody(PipeWriter writer) : IHttpResponseBodyFeature
    {
        public Stream Stream => writer.AsStream();

        public PipeWriter Writer => writer;

        public void DisableBuffering()
        {
        }

        public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task CompleteAsync() => writer.CompleteAsync().AsTask();
    }
}
