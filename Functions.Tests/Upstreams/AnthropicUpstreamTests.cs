using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Tests.Upstreams;

/// <summary>
/// <see cref="AnthropicUpstream"/> over a lambda handler: what goes out (the upstream's key, the client's
/// <c>anthropic-*</c> headers, the body with the model mapped), how every answer comes back as a Claude-format
/// <see cref="UpstreamResponse"/>, and the upstream's response released whenever no stream keeps it
/// (docs/wire-contract.md).
/// </summary>
public sealed class AnthropicUpstreamTests
{
    private const string UpstreamKey = "sk-ant-upstream";
    private const string ClientKey = "sk-qhaigc-client";
    private const string MessageJson = """{"id":"msg_1","type":"message","role":"assistant","model":"claude-test","content":[{"type":"text","text":"Hi"}],"usage":{"input_tokens":3,"output_tokens":1}}""";

    [Fact]
    public async Task SendMessagesAsync_SendsTheUpstreamsKeyAndTheClientsAnthropicHeaders_NeverTheClientsKey()
    {
        // Arrange: the client's headers as the request reader takes them.
        var upstream = RecordingHttpUpstream.Answering(HttpStatusCode.OK, MessageJson);
        using var request = FromClient(MessagesRequests.Create(stream: false), new HeaderDictionary
        {
            ["x-api-key"] = ClientKey,
            ["authorization"] = "Bearer " + ClientKey,
            ["anthropic-version"] = "2023-06-01",
            ["anthropic-beta"] = "tools-2024-04-04,prompt-caching-2024-07-31",
            ["anthropic-dangerous-direct-browser-access"] = "true",
            ["x-stainless-retry-count"] = "1",
        });

        // Act
        await using var response = await Adapter(upstream).SendMessagesAsync(request, MessagesRequests.Model, null, CancellationToken.None);

        // Assert
        var sent = Assert.Single(upstream.Received);
        Assert.Equal((HttpMethod.Post, "http://anthropic.test/base/v1/messages"), (sent.Method, sent.Uri.AbsoluteUri));
        Assert.Equal(UpstreamKey, sent.Header("x-api-key"));
        Assert.Null(sent.Header("authorization"));
        Assert.Equal("2023-06-01", sent.Header("anthropic-version"));
        Assert.Equal("tools-2024-04-04,prompt-caching-2024-07-31", sent.Header("anthropic-beta"));
        Assert.Equal("true", sent.Header("anthropic-dangerous-direct-browser-access"));
        Assert.Null(sent.Header("x-stainless-retry-count"));
        Assert.Equal(("application/json", "application/json"), (sent.Header("accept"), sent.Header("content-type")));
        Assert.DoesNotContain(ClientKey, string.Join("\n", sent.Headers.Values), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "tools-2024-04-04,prompt-caching-2024-07-31")]
    [InlineData("prompt-caching-2024-07-31", "prompt-caching-2024-07-31")]
    [InlineData("PROMPT-CACHING-2024-07-31, tools-2024-04-04", "tools-2024-04-04,prompt-caching-2024-07-31")]
    [InlineData("other-2025-01-01", null)]
    public async Task SendMessagesAsync_KeepsOnlyAllowedBetas_WhenTheUpstreamHasAnAllowList(string? allowList, string? expected)
    {
        // Arrange
        var upstream = RecordingHttpUpstream.Answering(HttpStatusCode.OK, MessageJson);
        using var request = MessagesRequests.Create(stream: false);
        request.AnthropicBeta = "tools-2024-04-04,prompt-caching-2024-07-31";

        // Act
        await using var response = await Adapter(upstream, options => options.BetaAllowList = allowList)
            .SendMessagesAsync(request, MessagesRequests.Model, null, CancellationToken.None);

        // Assert
        Assert.Equal(expected, Assert.Single(upstream.Received).Header("anthropic-beta"));
    }

    [Fact]
    public async Task SendMessagesAsync_ForwardsTheBodyAsSent_WhenTheModelNameIsTheSame()
    {
        // Arrange
        var upstream = RecordingHttpUpstream.Answering(HttpStatusCode.OK, MessageJson);
        using var request = MessagesRequests.Parse("""{ "model" : "claude-test", "max_tokens":16, "messages":[{"role":"user","content":"Hi"}], "x_future":[1, 2] }""");

        // Act
        await using var response = await Adapter(upstream).SendMessagesAsync(request, MessagesRequests.Model, null, CancellationToken.None);

        // Assert: byte for byte, spacing and unknown members included.
        Assert.Equal(request.Body, Assert.Single(upstream.Received).Body);
    }

    [Fact]
    public async Task SendMessagesAsync_SendsTheUpstreamsModelName_AndEveryOtherByteAsSent()
    {
        // Arrange: text that a JSON writer would escape (non-ASCII, HTML-sensitive characters) and an unknown member.
        const string Client = """{"model":"claude-test","max_tokens":16,"messages":[{"role":"user","content":"Grüße — <b>&'+</b>"}],"x_future":{"kept":true}}""";
        var upstream = RecordingHttpUpstream.Answering(HttpStatusCode.OK, MessageJson);
        using var request = MessagesRequests.Parse(Client);

        // Act
        await using var response = await Adapter(upstream).SendMessagesAsync(request, "claude-upstream-name", null, CancellationToken.None);

        // Assert: only the model differs from what the client sent (docs/wire-contract.md: unknown fields byte for byte).
        Assert.Equal(
            Client.Replace("\"model\":\"claude-test\"", "\"model\":\"claude-upstream-name\"", StringComparison.Ordinal),
            Encoding.UTF8.GetString(Assert.Single(upstream.Received).Body));
    }

    [Theory]
    [InlineData(1.5, true, 1.0)]
    [InlineData(1.5, false, 1.5)]
    [InlineData(0.7, false, 0.7)]
    public async Task SendMessagesAsync_ClampsTemperature_OnlyForARequestAboveClaudesRange(double temperature, bool aboveClaudeRange, double expected)
    {
        // Arrange: the flag is set by the chat reader for an OpenAI-range temperature; a Claude client's 1.5 is its own error.
        var upstream = RecordingHttpUpstream.Answering(HttpStatusCode.OK, MessageJson);
        using var request = MessagesRequests.Create(stream: false, extra: $",\"temperature\":{temperature.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        request.TemperatureAboveClaudeRange = aboveClaudeRange;

        // Act
        await using var response = await Adapter(upstream).SendMessagesAsync(request, MessagesRequests.Model, null, CancellationToken.None);

        // Assert
        Assert.Equal(expected, JsonDocument.Parse(Assert.Single(upstream.Received).Body).RootElement.GetProperty("temperature").GetDouble());
    }

    [Fact]
    public async Task SendMessagesAsync_ReturnsTheMessage_AndReleasesTheResponse()
    {
        // Arrange
        var upstream = RecordingHttpUpstream.Answering(HttpStatusCode.OK, MessageJson, "application/json", "request-id: req_upstream_1");
        using var request = MessagesRequests.Create(stream: false);

        // Act
        await using var response = await Adapter(upstream).SendMessagesAsync(request, MessagesRequests.Model, null, CancellationToken.None);

        // Assert
        Assert.Null(response.Error);
        Assert.Equal(MessageJson, Encoding.UTF8.GetString(response.Body!));
        Assert.Equal("req_upstream_1", response.UpstreamRequestId);
        Assert.True(upstream.Answer.Disposed);
    }

    [Theory]
    [InlineData(529, """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""", "retry-after: 3", 529, "overloaded_error", "Overloaded", 3.0)]
    [InlineData(429, """{"type":"error","error":{"type":"rate_limit_error","message":"Slow down"}}""", "retry-after-ms: 1500", 429, "rate_limit_error", "Slow down", 1.5)]
    [InlineData(429, """{"type":"error","error":{"type":"rate_limit_error","message":"Slow down"}}""", "retry-after-ms: 250|retry-after: 9", 429, "rate_limit_error", "Slow down", 0.25)]
    [InlineData(400, """{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too large"}}""", "", 400, "invalid_request_error", "max_tokens: too large", null)]
    [InlineData(500, "<html>Bad gateway</html>", "", 500, "api_error", "The upstream answered 500.", null)]
    [InlineData(503, "", "retry-after: 10", 503, "overloaded_error", "The upstream answered 503.", 10.0)]
    [InlineData(429, """{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit for your organization (0f8d3c2a-51b7-4e0e-9a1c-7d2b3e4f5a6b) of 50,000 input tokens per minute."}}""", "retry-after: 7", 429, "rate_limit_error", "This request would exceed the rate limit for your organization ([account]) of 50,000 input tokens per minute.", 7.0)]
    [InlineData(429, """{"error":{"message":"Rate limit reached for gpt-4o in organization org-AbCdEf123456GhIj on tokens per min","type":"tokens"}}""", "", 429, "tokens", "Rate limit reached for gpt-4o in organization [account] on tokens per min", null)]
    [InlineData(307, """{"type":"error","error":{"type":"api_error","message":"moved"}}""", "location: https://elsewhere.example/v1/messages", 502, "api_error", "The upstream answered with an unexpected status (307).", null)]
    [InlineData(204, "", "", 502, "api_error", "The upstream answered with an unexpected status (204).", null)]
    public async Task SendMessagesAsync_MapsAnErrorAnswer_WithItsRetryAfter(
        int status, string body, string headers, int expectedStatus, string expectedType, string expectedMessage, double? expectedRetryAfter)
    {
        // Arrange
        var upstream = RecordingHttpUpstream.Answering(
            (HttpStatusCode)status, body, body.StartsWith('{') ? "application/json" : "text/html", headers.Split('|', StringSplitOptions.RemoveEmptyEntries));
        using var request = MessagesRequests.Create();

        // Act
        await using var response = await Adapter(upstream).SendMessagesAsync(request, MessagesRequests.Model, null, CancellationToken.None);

        // Assert
        Assert.Equal((expectedStatus, expectedType, expectedMessage), (response.Error!.Status, response.Error.Type, response.Error.Message));
        Assert.Equal(expectedRetryAfter, response.Error.RetryAfterSeconds);
        Assert.Null(response.Events);
        Assert.True(upstream.Answer.Disposed);
    }

    [Fact]
    public async Task SendMessagesAsync_FailsWithAnApiError_WhenA200IsNotJson()
    {
        // Arrange: a proxy's page where the message should be.
        var upstream = RecordingHttpUpstream.Answering(HttpStatusCode.OK, "<html>Sign in</html>", "text/html");
        using var request = MessagesRequests.Create(stream: false);

        // Act
        await using var response = await Adapter(upstream).SendMessagesAsync(request, MessagesRequests.Model, null, CancellationToken.None);

        // Assert
        Assert.Equal((500, ErrorTypes.Api), (response.Error!.Status, response.Error.Type));
        Assert.Null(response.Body);
        Assert.True(upstream.Answer.Disposed);
    }

    [Fact]
    public async Task SendMessagesAsync_FailsWithAnApiError_WhenAStreamIsAnsweredWithJson()
    {
        // Arrange
        var upstream = RecordingHttpUpstream.Answering(HttpStatusCode.OK, MessageJson);
        using var request = MessagesRequests.Create(stream: true);

        // Act
        await using var response = await Adapter(upstream).SendMessagesAsync(request, MessagesRequests.Model, null, CancellationToken.None);

        // Assert
        Assert.Equal((500, ErrorTypes.Api, "The upstream did not answer with an event stream."), (response.Error!.Status, response.Error.Type, response.Error.Message));
        Assert.Equal("text/event-stream", Assert.Single(upstream.Received).Header("accept"));
        Assert.True(upstream.Answer.Disposed);
    }

    [Fact]
    public async Task SendMessagesAsync_FailsAsOverloaded_WhenTheUpstreamCannotBeReached()
    {
        // Arrange
        var upstream = new RecordingHttpUpstream((_, _) =>
            throw new HttpRequestException("Connection refused", new SocketException((int)SocketError.ConnectionRefused)));
        using var request = MessagesRequests.Create();

        // Act
        await using var response = await Adapter(upstream).SendMessagesAsync(request, MessagesRequests.Model, null, CancellationToken.None);

        // Assert
        Assert.Equal((529, ErrorTypes.Overloaded, "The upstream could not be reached."), (response.Error!.Status, response.Error.Type, response.Error.Message));
    }

    [Fact]
    public async Task SendMessagesAsync_FailsAsOverloaded_WhenTheUpstreamIsSilentPastTheIdleTimeout()
    {
        // Arrange
        var upstream = new RecordingHttpUpstream(async (_, cancellationToken) =>
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        });
        using var request = MessagesRequests.Create();

        // Act
        await using var response = await Adapter(upstream, static options => options.IdleTimeout = TimeSpan.FromMilliseconds(100))
            .SendMessagesAsync(request, MessagesRequests.Model, null, CancellationToken.None);

        // Assert
        Assert.Equal((529, "The upstream did not answer in time."), (response.Error!.Status, response.Error.Message));
    }

    [Fact]
    public async Task SendMessagesAsync_Throws_WhenTheClientLeaves()
    {
        // Arrange: the client's leaving is not the upstream's failure; the caller tells them apart by the token.
        using var aborted = new CancellationTokenSource();
        var upstream = new RecordingHttpUpstream(async (_, cancellationToken) =>
        {
            await aborted.CancelAsync();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        });
        using var request = MessagesRequests.Create();

        // Act + Assert
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Adapter(upstream).SendMessagesAsync(request, MessagesRequests.Model, null, aborted.Token));
    }

    [Fact]
    public async Task SendMessagesAsync_StreamsTheEventsAsTheyCame_AndReleasesTheResponseOnDispose()
    {
        // Arrange
        var sse = Fixtures.Text("Anthropic/text.sse");
        var upstream = RecordingHttpUpstream.Answering(HttpStatusCode.OK, sse, "text/event-stream", "request-id: req_upstream_2");
        using var request = MessagesRequests.Create();

        // Act
        var response = await Adapter(upstream).SendMessagesAsync(request, MessagesRequests.Model, null, CancellationToken.None);
        var events = new List<(string, string)>();
        while (await response.Events!.MoveNextAsync())
        {
            events.Add((response.Events.Current.EventType, Encoding.UTF8.GetString(response.Events.Current.Data.Span)));
        }

        var disposedWhileOpen = upstream.Answer.Disposed;
        await response.DisposeAsync();

        // Assert: the stream owns the connection until it is disposed.
        Assert.Equal(Fixtures.ParseEvents(sse), events);
        Assert.Equal("req_upstream_2", response.UpstreamRequestId);
        Assert.False(disposedWhileOpen);
        Assert.True(upstream.Answer.Disposed);
    }

    [Fact]
    public async Task SendMessagesAsync_StreamFailsOnAnEventThatIsNotJson()
    {
        // Arrange
        var upstream = RecordingHttpUpstream.Answering(HttpStatusCode.OK, "event: message_start\ndata: <html>\n\n", "text/event-stream");
        using var request = MessagesRequests.Create();

        // Act
        await using var response = await Adapter(upstream).SendMessagesAsync(request, MessagesRequests.Model, null, CancellationToken.None);

        // Assert
        await Assert.ThrowsAsync<UpstreamProtocolException>(async () => await response.Events!.MoveNextAsync());
    }

    private static MessagesRequest FromClient(MessagesRequest request, HeaderDictionary headers)
    {
        request.AnthropicVersion = headers[HeaderNames.AnthropicVersion].ToString();
        request.AnthropicBeta = HeaderPolicy.JoinBetas(headers);
        request.ExtraAnthropicHeaders = HeaderPolicy.ExtraAnthropicHeaders(headers);
        return request;
    }

    private static AnthropicUpstream Adapter(RecordingHttpUpstream upstream, Action<UpstreamOptions>? configure = null)
    {
        var options = new UpstreamOptions { Kind = UpstreamKinds.Anthropic, BaseUrl = new Uri("http://anthropic.test/base"), ApiKey = UpstreamKey };
        configure?.Invoke(options);
        return new AnthropicUpstream("anthropic", options, upstream.Client, NullLogger.Instance);
    }
}
