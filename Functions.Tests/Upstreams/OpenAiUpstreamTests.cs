using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Tests.Upstreams;

/// <summary>
/// <see cref="OpenAiUpstream"/> over a lambda handler: the Claude request translated for <c>/chat/completions</c> with
/// the upstream's bearer key and nothing of Anthropic's headers, answers and errors translated back into Claude's
/// format, and the response released whenever no stream keeps it (docs/openai-compatibility.md).
/// </summary>
public sealed class OpenAiUpstreamTests
{
    private const string UpstreamKey = "sk-openai-upstream";

    [Fact]
    public async Task SendMessagesAsync_SendsTheUpstreamsBearerKey_AndNoAnthropicHeaders()
    {
        // Arrange
        var upstream = RecordingHttpUpstream.Answering(HttpStatusCode.OK, Fixtures.Text("OpenAi/completion_text.json"));
        using var request = MessagesRequests.Create(stream: false);
        request.AnthropicBeta = "tools-2024-04-04";
        request.ExtraAnthropicHeaders = [new("anthropic-dangerous-direct-browser-access", "true")];

        // Act
        await using var response = await Adapter(upstream).SendMessagesAsync(request, "gpt-upstream", null, CancellationToken.None);

        // Assert
        var sent = Assert.Single(upstream.Received);
        Assert.Equal((HttpMethod.Post, "http://openai.test/v1/chat/completions"), (sent.Method, sent.Uri.AbsoluteUri));
        Assert.Equal("Bearer " + UpstreamKey, sent.Header("authorization"));
        Assert.DoesNotContain(sent.Headers.Keys, static name => name.StartsWith("anthropic-", StringComparison.OrdinalIgnoreCase) || name == "x-api-key");
        var body = JsonDocument.Parse(sent.Body).RootElement;
        Assert.Equal("gpt-upstream", body.GetProperty("model").GetString());
        Assert.Equal(16, body.GetProperty("max_completion_tokens").GetInt32());
    }

    [Fact]
    public async Task SendMessagesAsync_SendsATemperatureAboveClaudesRangeAsSent_AndAsksAStreamForUsage()
    {
        // Arrange: OpenAI's range is 0–2, so the chat client's 1.5 stays.
        var upstream = RecordingHttpUpstream.Answering(HttpStatusCode.OK, Fixtures.Text("OpenAi/text.sse"), "text/event-stream");
        using var request = MessagesRequests.Create(stream: true, extra: ""","temperature":1.5""");
        request.TemperatureAboveClaudeRange = true;

        // Act
        await using var response = await Adapter(upstream).SendMessagesAsync(request, "gpt-upstream", null, CancellationToken.None);

        // Assert
        var body = JsonDocument.Parse(Assert.Single(upstream.Received).Body).RootElement;
        Assert.Equal(1.5, body.GetProperty("temperature").GetDouble());
        Assert.True(body.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    [Fact]
    public async Task SendMessagesAsync_RefusesWhatTheStrictVersionForbids_WithoutCallingTheUpstream()
    {
        // Arrange
        var upstream = RecordingHttpUpstream.Answering(HttpStatusCode.OK, "{}");
        using var request = MessagesRequests.Create(extra: ""","temperature":0.5""");
        request.AnthropicVersion = VersionRules.Strict;

        // Act
        await using var response = await Adapter(upstream).SendMessagesAsync(request, "gpt-upstream", null, CancellationToken.None);

        // Assert
        Assert.Equal((400, ErrorTypes.InvalidRequest), (response.Error!.Status, response.Error.Type));
        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task SendMessagesAsync_TranslatesTheCompletion_UnderTheClientsModelName()
    {
        // Arrange
        var upstream = RecordingHttpUpstream.Answering(
            HttpStatusCode.OK, Fixtures.Text("OpenAi/completion_text.json"), "application/json", "x-request-id: req_openai_1");
        using var request = MessagesRequests.Create(stream: false);

        // Act
        await using var response = await Adapter(upstream).SendMessagesAsync(request, "gpt-upstream", null, CancellationToken.None);

        // Assert
        var message = JsonDocument.Parse(response.Body!).RootElement;
        Assert.Equal(("message", MessagesRequests.Model), (message.GetProperty("type").GetString(), message.GetProperty("model").GetString()));
        Assert.Equal("Hello, world — ünïcödé ✓", message.GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("req_openai_1", response.UpstreamRequestId);
        Assert.True(upstream.Answer.Disposed);
    }

    [Fact]
    public async Task SendMessagesAsync_TranslatesTheStreamIntoClaudeEvents_AndReleasesItOnDispose()
    {
        // Arrange
        var upstream = RecordingHttpUpstream.Answering(HttpStatusCode.OK, Fixtures.Text("OpenAi/text.sse"), "text/event-stream");
        using var request = MessagesRequests.Create();

        // Act
        var response = await Adapter(upstream).SendMessagesAsync(request, "gpt-upstream", null, CancellationToken.None);
        var names = new List<string>();
        while (await response.Events!.MoveNextAsync())
        {
            names.Add(response.Events.Current.EventType);
        }

        var disposedWhileOpen = upstream.Answer.Disposed;
        await response.DisposeAsync();

        // Assert
        Assert.Equal("message_start", names[0]);
        Assert.Equal("message_stop", names[^1]);
        Assert.False(disposedWhileOpen);
        Assert.True(upstream.Answer.Disposed);
    }

    [Theory]
    [InlineData(429, "insufficient_quota", "You exceeded your current quota", "retry-after: 20", "rate_limit_error", 20.0)]
    [InlineData(429, "rate_limit_exceeded", "Rate limit reached", "retry-after-ms: 700", "rate_limit_error", 0.7)]
    [InlineData(500, "server_error", "The server had an error", "", "api_error", null)]
    [InlineData(503, "service_unavailable", "Slow down", "", "overloaded_error", null)]
    [InlineData(401, "invalid_request_error", "Incorrect API key provided", "", "authentication_error", null)]
    [InlineData(404, "invalid_request_error", "The model does not exist", "", "not_found_error", null)]
    [InlineData(400, "invalid_request_error", "Invalid 'messages'", "", "invalid_request_error", null)]
    public async Task SendMessagesAsync_TypesAnErrorByItsStatus_AndKeepsItsMessageAndRetryAfter(
        int status, string openAiType, string message, string header, string expectedType, double? expectedRetryAfter)
    {
        // Arrange: OpenAI's error envelope, whose types are not Claude's.
        var body = $$$"""{"error":{"message":"{{{message}}}","type":"{{{openAiType}}}","param":null,"code":null}}""";
        var upstream = RecordingHttpUpstream.Answering((HttpStatusCode)status, body, "application/json", header.Length == 0 ? [] : [header]);
        using var request = MessagesRequests.Create();

        // Act
        await using var response = await Adapter(upstream).SendMessagesAsync(request, "gpt-upstream", null, CancellationToken.None);

        // Assert
        Assert.Equal((status, expectedType, message, expectedRetryAfter),
            (response.Error!.Status, response.Error.Type, response.Error.Message, response.Error.RetryAfterSeconds));
        Assert.True(upstream.Answer.Disposed);
    }

    [Fact]
    public async Task SendMessagesAsync_Fails_WhenTheCompletionCannotBeRead()
    {
        // Arrange
        var upstream = RecordingHttpUpstream.Answering(HttpStatusCode.OK, "<html>Sign in</html>", "text/html");
        using var request = MessagesRequests.Create(stream: false);

        // Act
        await using var response = await Adapter(upstream).SendMessagesAsync(request, "gpt-upstream", null, CancellationToken.None);

        // Assert
        Assert.Equal((500, ErrorTypes.Api), (response.Error!.Status, response.Error.Type));
        Assert.True(upstream.Answer.Disposed);
    }

    [Fact]
    public async Task SendMessagesAsync_FailsWithAnApiError_WhenAStreamIsAnsweredWithJson()
    {
        // Arrange
        var upstream = RecordingHttpUpstream.Answering(HttpStatusCode.OK, Fixtures.Text("OpenAi/completion_text.json"));
        using var request = MessagesRequests.Create(stream: true);

        // Act
        await using var response = await Adapter(upstream).SendMessagesAsync(request, "gpt-upstream", null, CancellationToken.None);

        // Assert
        Assert.Equal((500, ErrorTypes.Api), (response.Error!.Status, response.Error.Type));
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
        await using var response = await Adapter(upstream).SendMessagesAsync(request, "gpt-upstream", null, CancellationToken.None);

        // Assert
        Assert.Equal((529, ErrorTypes.Overloaded, "The upstream could not be reached."), (response.Error!.Status, response.Error.Type, response.Error.Message));
    }

    private static OpenAiUpstream Adapter(RecordingHttpUpstream upstream) =>
        new("openai", new UpstreamOptions { Kind = UpstreamKinds.OpenAi, BaseUrl = new Uri("http://openai.test/v1"), ApiKey = UpstreamKey },
            upstream.Client, NullLogger.Instance);
}
