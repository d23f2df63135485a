using System.Net;
using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Api;

/// <summary>
/// The Messages, count_tokens and chat-completions handlers called directly, over the gateway's real service graph
/// with in-memory stores (<see cref="InProcessGateway"/>): the prologue, the forwarder and the results, each path's
/// answer and usage record, in milliseconds. The same paths run end to end over HTTP in both hosting modes elsewhere.
/// </summary>
public sealed class HandlerTests
{
    private const string Message = """{"model":"claude-test","max_tokens":32,"messages":[{"role":"user","content":"Hello there"}]}""";

    [Fact]
    public async Task Messages_AnswersTheLocalUpstreamsMessage_AndRecordsItsUsage()
    {
        // Arrange
        await using var gateway = InProcessGateway.Create();
        var (secret, key) = await gateway.CreateKeyAsync();

        // Act
        var answer = await gateway.PostAsync("/v1/messages", Message, gateway.Get<MessagesHandler>().HandleAsync, secret);

        // Assert
        Assert.Equal(200, answer.Status);
        using var body = JsonDocument.Parse(answer.Body);
        Assert.Equal("claude-test", body.RootElement.GetProperty("model").GetString());
        Assert.Equal("Hello there", body.RootElement.GetProperty("content")[0].GetProperty("text").GetString());
        var record = Assert.Single(gateway.Usage.Records);
        Assert.Equal((key.Id, "messages", UsageState.Complete, 200, "local"), (record.KeyId, record.Endpoint, record.State, record.Status, record.Upstream));
        Assert.Equal(body.RootElement.GetProperty("usage").GetProperty("output_tokens").GetInt64(), record.OutputTokens);
        Assert.Equal(answer.Headers["request-id"].ToString(), record.RequestId);
    }

    [Fact]
    public async Task Messages_RelaysAnUpstreamStream_AsItCame()
    {
        // Arrange: an Anthropic upstream behind an in-process handler, answering a recorded stream.
        var sse = Fixtures.Text("Anthropic/text.sse");
        using var upstream = new LambdaHandler((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StringContent(sse, Encoding.UTF8, "text/event-stream"),
        }));
        await using var gateway = InProcessGateway.Create(upstream);
        var (secret, _) = await gateway.CreateKeyAsync();

        // Act
        var answer = await gateway.PostAsync("/v1/messages", Message.Replace("\"max_tokens\":32", "\"max_tokens\":32,\"stream\":true", StringComparison.Ordinal),
            gateway.Get<MessagesHandler>().HandleAsync, secret);

        // Assert: the events byte for byte, and the usage the stream reported.
        Assert.Equal(200, answer.Status);
        Assert.IsType<StreamRelay>(answer.Result);
        Assert.Equal(sse, answer.Body);
        var record = Assert.Single(gateway.Usage.Records);
        Assert.Equal((UsageState.Complete, true, "anthropic"), (record.State, record.Stream, record.Upstream));
        Assert.True(record.OutputTokens > 0);
    }

    [Fact]
    public async Task Messages_RefusesAModelTheKeyMayNotUse_AndRecordsTheRefusal()
    {
        // Arrange
        await using var gateway = InProcessGateway.Create();
        var (secret, _) = await gateway.CreateKeyAsync(models: ["claude-haiku-*"]);

        // Act
        var answer = await gateway.PostAsync("/v1/messages", Message, gateway.Get<MessagesHandler>().HandleAsync, secret);

        // Assert
        Assert.Equal(403, answer.Status);
        Assert.Contains("permission_error", answer.Body, StringComparison.Ordinal);
        var record = Assert.Single(gateway.Usage.Records);
        Assert.Equal((UsageState.Failed, 403, "permission_error", "claude-test"), (record.State, record.Status, record.ErrorType, record.Model));
    }

    [Fact]
    public async Task Messages_Answers529_WhenTheKeyStoreIsUnavailable_AndRecordsNothing()
    {
        // Arrange: a well-formed key that is not cached, and a store that cannot answer.
        await using var gateway = InProcessGateway.Create();
        var (secret, _) = await gateway.CreateKeyAsync();
        gateway.Keys.Unavailable = true;

        // Act
        var answer = await gateway.PostAsync("/v1/messages", Message, gateway.Get<MessagesHandler>().HandleAsync, secret);

        // Assert: retryable, and nobody to bill.
        Assert.Equal(529, answer.Status);
        Assert.Equal("true", answer.Headers["x-should-retry"].ToString());
        Assert.Empty(gateway.Usage.Records);
    }

    [Fact]
    public async Task Messages_RefusesAMissingVersion_BeforeReadingTheBody()
    {
        // Arrange
        await using var gateway = InProcessGateway.Create();
        var (secret, _) = await gateway.CreateKeyAsync();

        // Act
        var answer = await gateway.PostAsync("/v1/messages", "{not json", gateway.Get<MessagesHandler>().HandleAsync, secret, version: null);

        // Assert: the version is checked first, as Anthropic does.
        Assert.Equal(400, answer.Status);
        Assert.Contains("anthropic-version: header is required", answer.Body, StringComparison.Ordinal);
        Assert.Equal(UsageState.Failed, Assert.Single(gateway.Usage.Records).State);
    }

    [Fact]
    public async Task CountTokens_EstimatesForANonCountingUpstream_AndSaysSo()
    {
        // Arrange
        await using var gateway = InProcessGateway.Create();
        var (secret, _) = await gateway.CreateKeyAsync();

        // Act
        var answer = await gateway.PostAsync("/v1/messages/count_tokens", """{"model":"claude-test","messages":[{"role":"user","content":"Hello there"}]}""",
            gateway.Get<CountTokensHandler>().HandleAsync, secret);

        // Assert
        Assert.Equal(200, answer.Status);
        Assert.Equal("true", answer.Headers[CountTokensHandler.EstimatedHeader].ToString());
        using var body = JsonDocument.Parse(answer.Body);
        Assert.True(body.RootElement.GetProperty("input_tokens").GetInt32() > 0);
        var record = Assert.Single(gateway.Usage.Records);
        Assert.Equal(("count_tokens", UsageState.Complete, 0L, true), (record.Endpoint, record.State, record.InputTokens, record.Estimated));
    }

    [Theory]
    [InlineData(null, "chat.completion", "chat.completions")]
    [InlineData("claude", "message", "chat.completions+claude")]
    public async Task ChatCompletions_AnswersInTheAskedStyle_AndRecordsTheEndpoint(string? style, string expectedObject, string expectedEndpoint)
    {
        // Arrange
        await using var gateway = InProcessGateway.Create();
        var (secret, _) = await gateway.CreateKeyAsync();
        var styleField = style is null ? "" : $",\"style\":\"{style}\"";

        // Act
        var answer = await gateway.PostAsync("/v1/chat/completions",
            $$"""{"model":"claude-test","messages":[{"role":"user","content":"Hello there"}]{{styleField}}}""",
            gateway.Get<ChatCompletionsHandler>().HandleAsync, secret, version: null);

        // Assert
        Assert.Equal(200, answer.Status);
        using var body = JsonDocument.Parse(answer.Body);
        var kind = body.RootElement.TryGetProperty("object", out var @object) ? @object.GetString() : body.RootElement.GetProperty("type").GetString();
        Assert.Equal(expectedObject, kind);
        Assert.Equal(expectedEndpoint, Assert.Single(gateway.Usage.Records).Endpoint);
    }

    [Fact]
    public async Task ChatCompletions_Answers503InOpenAisShape_WhenTheKeyStoreIsUnavailable()
    {
        // Arrange
        await using var gateway = InProcessGateway.Create();
        var (secret, _) = await gateway.CreateKeyAsync();
        gateway.Keys.Unavailable = true;

        // Act
        var answer = await gateway.PostAsync("/v1/chat/completions", """{"model":"claude-test","messages":[{"role":"user","content":"hi"}]}""",
            gateway.Get<ChatCompletionsHandler>().HandleAsync, secret, version: null);

        // Assert: OpenAI clients know no 529.
        Assert.Equal(503, answer.Status);
        using var body = JsonDocument.Parse(answer.Body);
        Assert.Equal(JsonValueKind.Null, body.RootElement.GetProperty("error").GetProperty("param").ValueKind);
    }
}
