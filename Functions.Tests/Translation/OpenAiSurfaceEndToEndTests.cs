using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Anthropic.Models.Messages;
using Anthropic.Models.Models;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Translation;

/// <summary>
/// The rest of the OpenAI-format surface over real HTTP: errors in OpenAI's shape (Claude's with <c>style: claude</c>),
/// <c>/v1/models</c> for both SDKs, <c>count_tokens</c> forwarded or estimated, and usage estimated when an
/// OpenAI-compatible upstream reports none.
/// </summary>
public sealed class OpenAiSurfaceEndToEndTests
{
    public static TheoryData<string> Modes => GatewayHosts.Modes;

    public static TheoryData<string, string, int, string, string> OpenAiErrors => new()
    {
        { "unparsable JSON", """{"model":""", 400, "invalid_request_error", "There was an error parsing the body" },
        { "unknown style", """{"model":"fake-text","style":"gemini","messages":[{"role":"user","content":"x"}]}""", 400, "invalid_request_error", "style: Input should be 'openai' or 'claude'" },
        { "audio input", """{"model":"fake-text","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}]}]}""", 400, "invalid_request_error", "messages.0.content.0: audio input" },
        { "unknown model", """{"model":"nobody-serves-this","messages":[{"role":"user","content":"x"}]}""", 404, "not_found_error", "model: nobody-serves-this" },
        { "upstream rate limit", """{"model":"fake-rate-limited","messages":[{"role":"user","content":"x"}]}""", 429, "rate_limit_error", "Rate limit reached for requests" },
        { "upstream overloaded", """{"model":"fake-unavailable","messages":[{"role":"user","content":"x"}]}""", 503, "overloaded_error", "The engine is currently overloaded" },
        { "upstream bad request", """{"model":"fake-bad-request","messages":[{"role":"user","content":"x"}]}""", 400, "invalid_request_error", "Invalid value for 'messages'" },
    };

    [Theory]
    [MemberData(nameof(OpenAiErrors))]
    public async Task ChatCompletions_AnswersErrorsInOpenAiShape(string situation, string body, int status, string type, string message)
    {
        // Arrange
        await using var arrangement = await TranslationArrangement.StartAsync(GatewayHosts.Standalone, TranslationArrangement.OpenAi,
            settings => settings["Gateway:Upstreams:openai:Models"] = "fake-*");
        using var http = arrangement.Scenario.Http();

        // Act
        using var response = await http.SendAsync(Chat(arrangement.Scenario.Secret, body));
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        // Assert: {"error":{"message","type","param","code"}}, the request id in x-request-id.
        Assert.Equal(status, (int)response.StatusCode);
        var error = document.RootElement.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.StartsWith(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.False(document.RootElement.TryGetProperty("type", out _), situation);
        Assert.StartsWith("req_", RawClient.Header(response, "x-request-id"), StringComparison.Ordinal);
        if (status == 429)
        {
            Assert.Equal("7", RawClient.Header(response, "retry-after"));
        }
    }

    [Fact]
    public async Task ChatCompletions_AnswersClaudeShapedErrors_WithClaudeStyle()
    {
        // Arrange
        await using var arrangement = await TranslationArrangement.StartAsync(GatewayHosts.Standalone, TranslationArrangement.OpenAi,
            settings => settings["Gateway:Upstreams:openai:Models"] = "fake-*");
        using var http = arrangement.Scenario.Http();

        // Act
        using var response = await http.SendAsync(Chat(arrangement.Scenario.Secret,
            """{"model":"unknown-model","style":"claude","messages":[{"role":"user","content":"x"}]}"""));
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        // Assert
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("error", document.RootElement.GetProperty("type").GetString());
        Assert.Equal("not_found_error", document.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.StartsWith("req_", document.RootElement.GetProperty("request_id").GetString(), StringComparison.Ordinal);
        var record = Assert.Single(await arrangement.WaitForRecordsAsync(1));
        Assert.Equal(("chat.completions+claude", 404, UsageState.Failed), (record.Endpoint, record.Status, record.State));
    }

    [Fact]
    public async Task ChatCompletions_RefusesWithOpenAiShape_WithoutKey()
    {
        // Arrange
        await using var arrangement = await TranslationArrangement.StartAsync(GatewayHosts.Standalone, TranslationArrangement.OpenAi);
        var client = new ChatClient(FakeOpenAiUpstream.Models.Text, new ApiKeyCredential("sk-qh-not-a-real-key"), new OpenAIClientOptions
        {
            Endpoint = new Uri(arrangement.Scenario.Host.BaseAddress, "v1"),
            RetryPolicy = new ClientRetryPolicy(0),
        });

        // Act
        var exception = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync("hi"));

        // Assert
        Assert.Equal(401, exception.Status);
        Assert.Contains("invalid x-api-key", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task ChatCompletions_RecordsEstimatedUsage_WhenUpstreamReportsNone(string mode)
    {
        // Arrange
        await using var arrangement = await TranslationArrangement.StartAsync(mode, TranslationArrangement.OpenAi);
        var client = arrangement.OpenAiSdk(FakeOpenAiUpstream.Models.NoUsage);

        // Act
        var text = new StringBuilder();
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Say hello there")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        // Assert
        Assert.Equal("Hello there", text.ToString());
        var record = Assert.Single(await arrangement.WaitForRecordsAsync(1));
        Assert.True(record.Estimated);
        Assert.Equal(UsageState.Complete, record.State);
        Assert.True(record.InputTokens > 0 && record.OutputTokens > 0);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Messages_StreamsMidStreamError_FromOpenAiUpstream(string mode)
    {
        // Arrange
        await using var arrangement = await TranslationArrangement.StartAsync(mode, TranslationArrangement.OpenAi);
        using var http = arrangement.Scenario.Http();

        // Act
        using var response = await http.SendAsync(RawClient.Messages(arrangement.Scenario.Secret, RawClient.Body(FakeOpenAiUpstream.Models.MidStreamError, stream: true)));
        var events = Fixtures.ParseEvents(await response.Content.ReadAsStringAsync());

        // Assert: one error event after the partial text, no message_stop; recorded as truncated.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("error", events[^1].Event);
        Assert.DoesNotContain(events, static e => e.Event == "message_stop");
        var record = Assert.Single(await arrangement.WaitForRecordsAsync(1));
        Assert.Equal(UsageState.Truncated, record.State);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task ChatCompletions_EndsWithAnErrorChunk_WhenAnEventCannotBeTranslated(string mode)
    {
        // Arrange: the Anthropic upstream's text block starts with a lone surrogate escape, which no UTF-8 text carries.
        await using var arrangement = await TranslationArrangement.StartAsync(mode, TranslationArrangement.Anthropic);
        using var http = arrangement.Scenario.Http();
        var body = $$"""{"model":"{{FakeAnthropicUpstream.Models.UntranslatableMidStream}}","stream":true,"messages":[{"role":"user","content":"hi"}]}""";

        // Act
        using var response = await http.SendAsync(RawClient.Messages(arrangement.Scenario.Secret, body, path: "v1/chat/completions"));
        var events = Fixtures.ParseEvents(await response.Content.ReadAsStringAsync());

        // Assert: the stream ends with one error chunk (not cut short, not [DONE]), and the call is recorded as truncated.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var last = JsonDocument.Parse(events[^1].Data);
        Assert.Equal("api_error", last.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.DoesNotContain(events, static e => e.Data == "[DONE]");
        var record = Assert.Single(await arrangement.WaitForRecordsAsync(1));
        Assert.Equal(UsageState.Truncated, record.State);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Models_ListsForOpenAiSdk_EveryServedModelTheKeyMayUse(string mode)
    {
        // Arrange: literal names, a mapped name, and a wildcard resolved through the upstream's own list.
        await using var arrangement = await TranslationArrangement.StartAsync(mode, TranslationArrangement.OpenAi, settings =>
        {
            settings["Gateway:Upstreams:openai:Models"] = "fake-*,org/*,gpt-mini";
            settings["Gateway:Upstreams:openai:ModelMap:gpt-mini"] = "fake-text";
        });
        var client = new OpenAIModelClient(new ApiKeyCredential(arrangement.Scenario.Secret), new OpenAIClientOptions
        {
            Endpoint = new Uri(arrangement.Scenario.Host.BaseAddress, "v1"),
            RetryPolicy = new ClientRetryPolicy(0),
        });

        // Act
        OpenAIModelCollection models = await client.GetModelsAsync();
        OpenAIModel one = await client.GetModelAsync("org/fake-slash");

        // Assert
        Assert.Equal(["fake-text", "fake-tool", "gpt-mini", "org/fake-slash"], models.Select(static m => m.Id).Order(StringComparer.Ordinal));
        Assert.All(models, static m => Assert.Equal("qhaigc", m.OwnedBy));
        Assert.Equal("org/fake-slash", one.Id);
        // Not billed: no usage row (the usage table is not even created).
        try
        {
            Assert.Empty(await arrangement.Scenario.Environment.AllUsageAsync(arrangement.Scenario.Key.Id));
        }
        catch (Azure.RequestFailedException exception) when (exception.Status == 404)
        {
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Models_PagesForAnthropicSdk_AndHidesModelsTheKeyMayNotUse(string mode)
    {
        // Arrange
        var environment = await GatewayTestEnvironment.CreateAsync();
        await using var upstream = await FakeAnthropicUpstream.StartAsync();
        var settings = environment.Settings(upstream.GatewaySettings(models: "claude-a,claude-b,claude-c,claude-d,secret-model"));
        var (secret, _) = await environment.CreateKeyAsync(models: ["claude-*"]);
        await using var host = await GatewayHosts.StartAsync(mode, settings);
        var client = new Anthropic.AnthropicClient { ApiKey = secret, BaseUrl = host.BaseAddress.ToString().TrimEnd('/'), MaxRetries = 0 };

        // Act: pages of two, followed by the SDK's auto-pagination (after_id = last_id while has_more).
        var page = await client.Models.List(new ModelListParams { Limit = 2 });
        var ids = new List<string>();
        await foreach (var model in ((Anthropic.Core.IPage<ModelInfo>)page).Paginate())
        {
            ids.Add(model.ID);
        }

        var single = await client.Models.Retrieve("claude-b");

        // Assert
        Assert.Equal(["claude-a", "claude-b", "claude-c", "claude-d"], ids);
        Assert.Equal(("claude-b", "claude-b"), (single.ID, single.DisplayName));
        var missing = await Assert.ThrowsAnyAsync<Exception>(() => client.Models.Retrieve("secret-model"));
        Assert.Contains("not_found_error", missing.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task CountTokens_IsForwarded_ToAnthropicUpstream(string mode)
    {
        // Arrange
        await using var arrangement = await TranslationArrangement.StartAsync(mode, TranslationArrangement.Anthropic);
        var client = arrangement.Scenario.Sdk();

        // Act
        var count = await client.Messages.CountTokens(new MessageCountTokensParams
        {
            Model = FakeAnthropicUpstream.Models.Text,
            Messages = [new UserMessageParam { Content = "Hello" }],
        });

        // Assert
        Assert.Equal(1234, count.InputTokens);
        var forwarded = Assert.Single(arrangement.Scenario.Upstream!.Received);
        Assert.Equal("/v1/messages/count_tokens", forwarded.PathAndQuery);
        Assert.Equal(FakeAnthropicUpstream.UpstreamKey, forwarded.Headers["x-api-key"]);
        var record = Assert.Single(await arrangement.WaitForRecordsAsync(1));
        Assert.Equal(("count_tokens", 0L, 0L, false), (record.Endpoint, record.InputTokens, record.OutputTokens, record.Estimated));
        Assert.Equal("""{"input_tokens":1234}""", record.RawUsage);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task CountTokens_IsEstimatedWithTokenizer_ForOpenAiUpstream(string mode)
    {
        // Arrange
        await using var arrangement = await TranslationArrangement.StartAsync(mode, TranslationArrangement.OpenAi);
        using var http = arrangement.Scenario.Http();

        // Act: no max_tokens (not required here).
        using var response = await http.SendAsync(RawClient.Messages(arrangement.Scenario.Secret,
            """{"model":"fake-text","system":"You are terse.","messages":[{"role":"user","content":"Hello, how are you today?"}]}""",
            path: "v1/messages/count_tokens"));
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        // Assert: o200k_base counts 4 + 7 tokens of text, plus 3 for the message.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", RawClient.Header(response, "x-qhaigc-estimated"));
        Assert.Equal(14, document.RootElement.GetProperty("input_tokens").GetInt64());
        Assert.Empty(arrangement.OpenAiUpstream!.Received);
        var record = Assert.Single(await arrangement.WaitForRecordsAsync(1));
        Assert.Equal(("count_tokens", 0L, true), (record.Endpoint, record.InputTokens, record.Estimated));
    }

    [Fact]
    public async Task Gateway_NeverLogsSecretsOrPrompts_OnTranslatedCalls()
    {
        // Arrange
        await using var arrangement = await TranslationArrangement.StartAsync(GatewayHosts.Standalone, TranslationArrangement.OpenAi);
        var client = arrangement.OpenAiSdk(FakeOpenAiUpstream.Models.RateLimited);

        // Act
        await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync("a very private prompt"));
        await arrangement.OpenAiSdk(FakeOpenAiUpstream.Models.Text).CompleteChatAsync("another private prompt");

        // Assert
        var logs = arrangement.Scenario.Host.CapturedLogs;
        Assert.DoesNotContain(arrangement.Scenario.Secret, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeOpenAiUpstream.UpstreamKey, logs, StringComparison.Ordinal);
        Assert.DoesNotContain("private prompt", logs, StringComparison.Ordinal);
    }

    private static HttpRequestMessage Chat(string secret, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        return request;
    }
}
