using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Api;

/// <summary>
/// /v1/messages end to end over real HTTP, with the official Anthropic C# SDK and plain HTTP, in every hosting mode.
/// </summary>
public sealed class MessagesEndToEndTests
{
    public static TheoryData<string> Modes => GatewayHosts.Modes;

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task LocalUpstream_AnswersSdk_WhenNoUpstreamIsConfigured(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        var client = scenario.Sdk();

        // Act
        var message = await client.Messages.Create(new MessageCreateParams
        {
            Model = "claude-sonnet-4-5",
            MaxTokens = 64,
            Messages = [new UserMessageParam { Content = "Echo these five words please" }],
        });

        // Assert
        var text = Assert.Single(message.Content).Value as TextBlock;
        Assert.NotNull(text);
        Assert.Equal("Echo these five words please", text.Text);
        Assert.Equal("claude-sonnet-4-5", (string)message.Model);
        Assert.Equal(5, message.Usage.OutputTokens);
        var records = await WaitForRecordsAsync(scenario, 1);
        var record = Assert.Single(records);
        Assert.Equal(UsageState.Complete, record.State);
        Assert.Equal("local", record.Upstream);
        Assert.Equal(message.Usage.InputTokens, record.InputTokens);
        Assert.Equal(5, record.OutputTokens);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task LocalUpstream_StreamsCompleteEventSequence_WithSdk(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        var client = scenario.Sdk();

        // Act
        var kinds = new List<string>();
        var text = new StringBuilder();
        await foreach (var streamEvent in client.Messages.CreateStreaming(new MessageCreateParams
        {
            Model = "claude-haiku-4-5",
            MaxTokens = 3,
            Messages = [new UserMessageParam { Content = "one two three four" }],
        }))
        {
            kinds.Add(streamEvent.Value!.GetType().Name);
            if (streamEvent.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var textDelta))
            {
                text.Append(textDelta.Text);
            }
        }

        // Assert: max_tokens honoured, full sequence in order.
        Assert.Equal("one two three ", text.ToString());
        Assert.Equal("RawMessageStartEvent", kinds[0]);
        Assert.Equal("RawMessageStopEvent", kinds[^1]);
        var record = Assert.Single(await WaitForRecordsAsync(scenario, 1));
        Assert.True(record.Stream);
        Assert.Equal(3, record.OutputTokens);
        Assert.Equal(UsageState.Complete, record.State);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task AnthropicUpstream_RelaysStreamByteForByte_AndUsesItsOwnKey(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode);
        using var http = scenario.Http();
        using var request = RawClient.Messages(scenario.Secret, RawClient.Body(FakeAnthropicUpstream.Models.Text, stream: true), path: "v1/messages?beta=true");
        request.Headers.TryAddWithoutValidation("anthropic-beta", "interleaved-thinking-2025-05-14");
        request.Headers.TryAddWithoutValidation("anthropic-beta", "claude-code-20250219");
        request.Headers.TryAddWithoutValidation("x-stainless-retry-count", "2");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + scenario.Secret);

        // Act
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var chunked = response.Headers.TransferEncodingChunked;
        var body = await response.Content.ReadAsStringAsync();

        // Assert: the client sees exactly the upstream's bytes, with Claude's streaming headers.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        Assert.True(chunked);
        Assert.Equal(Fixtures.Text("Anthropic/text.sse"), body);
        var requestId = RawClient.Header(response, "request-id");
        Assert.StartsWith("req_", requestId, StringComparison.Ordinal);
        Assert.Equal(requestId, RawClient.Header(response, "x-request-id"));

        // The upstream got its own key, the version and the betas once each, and nothing of the client's credentials.
        var received = Assert.Single(scenario.Upstream!.Received);
        Assert.Equal("/v1/messages", received.PathAndQuery);
        Assert.Equal(FakeAnthropicUpstream.UpstreamKey, received.Headers["x-api-key"]);
        Assert.False(received.Headers.ContainsKey("authorization"));
        Assert.False(received.Headers.ContainsKey("x-stainless-retry-count"));
        Assert.Equal("2023-06-01", received.Headers["anthropic-version"]);
        Assert.Equal("interleaved-thinking-2025-05-14,claude-code-20250219", received.Headers["anthropic-beta"]);
        Assert.DoesNotContain(scenario.Secret, Encoding.UTF8.GetString(received.Body), StringComparison.Ordinal);

        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, requestId!);
        Assert.Equal(UsageState.Complete, record.State);
        Assert.Equal(25, record.InputTokens);
        Assert.Equal(15, record.OutputTokens);
        Assert.Equal(2, record.ClientRetryCount);
        Assert.NotNull(record.TimeToFirstByteMs);
        Assert.False(record.Estimated);

        // Neither key nor prompt text reaches the logs.
        var logs = scenario.Host.CapturedLogs;
        Assert.NotEmpty(logs);
        Assert.DoesNotContain(scenario.Secret, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeAnthropicUpstream.UpstreamKey, logs, StringComparison.Ordinal);
        Assert.DoesNotContain("\"content\":\"Hello\"", logs, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task AnthropicUpstream_RelaysMessageUnchanged_IncludingUnknownFields(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode);
        using var http = scenario.Http();
        var body = """{"model":"fake-text","max_tokens":100,"messages":[{"role":"user","content":"hi"}],"context_management":{"edits":[]},"x_new_field":[1,2,3]}""";

        // Act
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, body));
        var answer = await response.Content.ReadAsByteArrayAsync();

        // Assert: answer and request both pass through byte for byte.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Fixtures.Bytes("Anthropic/text.json"), answer);
        Assert.Equal(body, Encoding.UTF8.GetString(Assert.Single(scenario.Upstream!.Received).Body));
        Assert.NotNull(RawClient.Header(response, "x-qhaigc-overhead-ms"));
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, RawClient.Header(response, "request-id")!);
        Assert.Equal((25, 15, 100, 2000), (record.InputTokens, record.OutputTokens, record.CacheCreationInputTokens, record.CacheReadInputTokens));
        Assert.Equal((60L, 40L), (record.CacheCreation5mInputTokens, record.CacheCreation1hInputTokens));
        Assert.Contains("\"service_tier\":\"standard\"", record.RawUsage, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task AnthropicUpstream_StreamsToolUse_WithSdk(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var client = scenario.Sdk();

        // Act
        var partialJson = new StringBuilder();
        string? toolName = null;
        var stopReason = "";
        long outputTokens = 0;
        await foreach (var streamEvent in client.Messages.CreateStreaming(new MessageCreateParams
        {
            Model = FakeAnthropicUpstream.Models.ToolUse,
            MaxTokens = 256,
            Messages = [new UserMessageParam { Content = "Weather in SF?" }],
        }))
        {
            if (streamEvent.TryPickContentBlockStart(out var start) && start.ContentBlock.TryPickToolUse(out var toolUse))
            {
                toolName = toolUse.Name;
            }
            else if (streamEvent.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickInputJson(out var json))
            {
                partialJson.Append(json.PartialJson);
            }
            else if (streamEvent.TryPickDelta(out var messageDelta))
            {
                stopReason = messageDelta.Delta.StopReason?.ToString() ?? "";
                outputTokens = messageDelta.Usage.OutputTokens;
            }
        }

        // Assert
        Assert.Equal("get_weather", toolName);
        using var input = JsonDocument.Parse(partialJson.ToString());
        Assert.Equal("San Francisco, CA", input.RootElement.GetProperty("location").GetString());
        Assert.Equal("fahrenheit", input.RootElement.GetProperty("unit").GetString());
        Assert.Contains("tool_use", stopReason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(89, outputTokens);
        var record = Assert.Single(await WaitForRecordsAsync(scenario, 1));
        Assert.Equal((472L, 89L, 128L), (record.InputTokens, record.OutputTokens, record.CacheReadInputTokens));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task AnthropicUpstream_StreamsThinkingWithSignature_WithSdk(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var client = scenario.Sdk();

        // Act
        var thinking = new StringBuilder();
        var signature = "";
        var text = new StringBuilder();
        await foreach (var streamEvent in client.Messages.CreateStreaming(new MessageCreateParams
        {
            Model = FakeAnthropicUpstream.Models.Thinking,
            MaxTokens = 2048,
            Messages = [new UserMessageParam { Content = "27 * 453?" }],
        }))
        {
            if (streamEvent.TryPickContentBlockDelta(out var delta))
            {
                if (delta.Delta.TryPickThinking(out var thinkingDelta))
                {
                    thinking.Append(thinkingDelta.Thinking);
                }
                else if (delta.Delta.TryPickSignature(out var signatureDelta))
                {
                    signature = signatureDelta.Signature;
                }
                else if (delta.Delta.TryPickText(out var textDelta))
                {
                    text.Append(textDelta.Text);
                }
            }
        }

        // Assert
        Assert.Equal("Let me solve this step by step:\n\n1. 27 * 453 = 12231", thinking.ToString());
        Assert.Equal("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds", signature);
        Assert.Equal("27 * 453 = 12,231", text.ToString());
        var record = Assert.Single(await WaitForRecordsAsync(scenario, 1));
        Assert.Equal(40, record.OutputTokens);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task AnthropicUpstream_Overloaded_IsRelayedAsRetryableHttpError(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode);
        using var http = scenario.Http();

        // Act: streaming or not, a failure before the first event is a plain HTTP error the SDKs retry.
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(FakeAnthropicUpstream.Models.Overloaded, stream: true)));
        var exception = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => scenario.Sdk().Messages.Create(new MessageCreateParams
        {
            Model = FakeAnthropicUpstream.Models.Overloaded,
            MaxTokens = 10,
            Messages = [new UserMessageParam { Content = "hi" }],
        }));

        // Assert
        Assert.Equal(529, (int)response.StatusCode);
        Assert.Equal("true", RawClient.Header(response, "x-should-retry"));
        Assert.Equal("3", RawClient.Header(response, "retry-after"));
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("overloaded_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(RawClient.Header(response, "request-id"), error.RootElement.GetProperty("request_id").GetString());
        Assert.Equal(529, (int)exception.StatusCode);
        var records = await WaitForRecordsAsync(scenario, 2);
        Assert.All(records, static r => Assert.Equal((529, UsageState.Failed, "overloaded_error"), (r.Status, r.State, r.ErrorType)));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task AnthropicUpstream_ClientErrors_AreRelayedWithStatusAndMessage(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode);
        using var http = scenario.Http();

        // Act
        using var rateLimited = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(FakeAnthropicUpstream.Models.RateLimited)));
        using var badRequest = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(FakeAnthropicUpstream.Models.BadRequest)));
        using var html = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(FakeAnthropicUpstream.Models.HtmlError)));

        // Assert
        Assert.Equal(429, (int)rateLimited.StatusCode);
        Assert.Equal("7", RawClient.Header(rateLimited, "retry-after"));
        Assert.Contains("rate_limit_error", await rateLimited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(400, (int)badRequest.StatusCode);
        Assert.Equal("false", RawClient.Header(badRequest, "x-should-retry"));
        Assert.Contains("upstream says no", await badRequest.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(502, (int)html.StatusCode);
        using var htmlError = JsonDocument.Parse(await html.Content.ReadAsStringAsync());
        Assert.Equal("api_error", htmlError.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task AnthropicUpstream_MidStreamError_BecomesOneErrorEvent_AndTruncatedRecord(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode);
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(FakeAnthropicUpstream.Models.MidStreamError, stream: true)));
        var events = Fixtures.ParseEvents(await response.Content.ReadAsStringAsync());
        var sdkFailure = await Record.ExceptionAsync(async () =>
        {
            await foreach (var _ in scenario.Sdk().Messages.CreateStreaming(new MessageCreateParams
            {
                Model = FakeAnthropicUpstream.Models.MidStreamError,
                MaxTokens = 100,
                Messages = [new UserMessageParam { Content = "hi" }],
            }))
            {
            }
        });

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("error", events[^1].Event);
        Assert.DoesNotContain(events, static e => e.Event == "message_stop");
        using var error = JsonDocument.Parse(events[^1].Data);
        Assert.Equal("overloaded_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(RawClient.Header(response, "request-id"), error.RootElement.GetProperty("request_id").GetString());
        Assert.NotNull(sdkFailure);
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, RawClient.Header(response, "request-id")!);
        Assert.Equal((UsageState.Truncated, "overloaded_error", 30L), (record.State, record.ErrorType, record.InputTokens));
        Assert.True(record.Estimated);
        Assert.True(record.OutputTokens > 0);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task AnthropicUpstream_ErrorAsFirstEvent_IsPlainHttpError(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode);
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(FakeAnthropicUpstream.Models.ErrorFirst, stream: true)));

        // Assert
        Assert.Equal(529, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task AnthropicUpstream_ConnectionCutMidStream_EndsWithErrorEvent(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode);
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(FakeAnthropicUpstream.Models.Cut, stream: true)));
        var events = Fixtures.ParseEvents(await response.Content.ReadAsStringAsync());

        // Assert: what arrived, then one error event.
        Assert.Equal(["message_start", "content_block_start", "ping", "error"], events.Select(static e => e.Event));
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, RawClient.Header(response, "request-id")!);
        Assert.Equal(UsageState.Truncated, record.State);
        Assert.Equal(25, record.InputTokens);
        Assert.True(record.Estimated);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task ClientDisconnect_CancelsUpstream_AndRecordsCancelledCall(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode);
        using var http = scenario.Http();
        using var response = await http.SendAsync(
            RawClient.Messages(scenario.Secret, RawClient.Body(FakeAnthropicUpstream.Models.Stall, stream: true)), HttpCompletionOption.ResponseHeadersRead);
        var requestId = RawClient.Header(response, "request-id")!;
        var stream = await response.Content.ReadAsStreamAsync();
        var first = new byte[64];
        Assert.True(await stream.ReadAsync(first) > 0);

        // Act: the client goes away mid-stream.
        response.Dispose();

        // Assert: the upstream call is cancelled promptly, and the call is recorded as cancelled with its input.
        await scenario.Upstream!.StreamAborted.WaitAsync(TimeSpan.FromSeconds(5));
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, requestId);
        Assert.Equal(UsageState.Cancelled, record.State);
        Assert.Equal(25, record.InputTokens);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Streaming_FirstEventReachesClient_BeforeUpstreamFinishes(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode);
        using var http = scenario.Http();

        // Act: the fake sends two events, then waits until the test releases it.
        using var response = await http.SendAsync(
            RawClient.Messages(scenario.Secret, RawClient.Body(FakeAnthropicUpstream.Models.Paced, stream: true)), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var firstLine = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
        scenario.Upstream!.ReleasePaced();
        var rest = await reader.ReadToEndAsync();

        // Assert
        Assert.Equal("event: message_start", firstLine);
        Assert.EndsWith("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", rest, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Streaming_SendsPings_WhileTheUpstreamIsSilent(string mode)
    {
        // Arrange: pings every 100 ms; the upstream sends message_start, then nothing.
        await using var scenario = await GatewayScenario.StartAsync(mode, configure: static s => s["Gateway:Streaming:PingInterval"] = "00:00:00.100");
        using var http = scenario.Http();
        using var response = await http.SendAsync(
            RawClient.Messages(scenario.Secret, RawClient.Body(FakeAnthropicUpstream.Models.Stall, stream: true)), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        // Act
        var lines = new List<string>();
        while (lines.Count(static l => l == "event: ping") < 3)
        {
            lines.Add((await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)))!);
        }

        // Assert
        Assert.Equal("event: message_start", lines[0]);
        Assert.Contains("data: {\"type\": \"ping\"}", lines);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Streaming_CommitsWithPings_WhenTheFirstEventIsLate(string mode)
    {
        // Arrange: the upstream answers 200 but sends its first event only when released.
        await using var scenario = await GatewayScenario.StartAsync(mode, configure: static s =>
        {
            s["Gateway:Streaming:PingInterval"] = "00:00:00.100";
            s["Gateway:Streaming:FirstEventTimeout"] = "00:00:00.300";
        });
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(
            RawClient.Messages(scenario.Secret, RawClient.Body(FakeAnthropicUpstream.Models.SilentStart, stream: true)), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
        scenario.Upstream!.ReleasePaced();
        var events = Fixtures.ParseEvents(first + "\n" + await reader.ReadToEndAsync());

        // Assert: committed before the first event, kept alive, then the whole answer.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("event: ping", first);
        Assert.Equal(Fixtures.Events("Anthropic/text.sse").Select(static e => e.Event), events.SkipWhile(static e => e.Event == "ping").Select(static e => e.Event));
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, RawClient.Header(response, "request-id")!);
        Assert.Equal((UsageState.Complete, 15L), (record.State, record.OutputTokens));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task ModelMap_SendsUpstreamName_AndEchoesClientModel(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, configure: static settings =>
        {
            settings["Gateway:Upstreams:anthropic:Models"] = "claude-*";
            settings["Gateway:Upstreams:anthropic:ModelMap:claude-house-model"] = FakeAnthropicUpstream.Models.Text;
        });
        var client = scenario.Sdk();

        // Act
        var message = await client.Messages.Create(new MessageCreateParams
        {
            Model = "claude-house-model",
            MaxTokens = 10,
            Messages = [new UserMessageParam { Content = "hi" }],
        });

        // Assert
        Assert.Equal("claude-house-model", (string)message.Model);
        using var sent = JsonDocument.Parse(Assert.Single(scenario.Upstream!.Received).Body);
        Assert.Equal(FakeAnthropicUpstream.Models.Text, sent.RootElement.GetProperty("model").GetString());
        var record = Assert.Single(await WaitForRecordsAsync(scenario, 1));
        Assert.Equal(("claude-house-model", FakeAnthropicUpstream.Models.Text, "anthropic"), (record.Model, record.UpstreamModel, record.Upstream));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Refusals_HaveClaudeShape_AndAreRecordedForKnownKeys(string mode)
    {
        // Arrange: the upstream serves fake-* only; the key may use fake-text and claude-* only.
        await using var scenario = await GatewayScenario.StartAsync(mode,
            configure: static settings => settings["Gateway:Upstreams:anthropic:Models"] = "fake-*",
            keyModels: ["fake-text", "claude-*"]);
        using var http = scenario.Http();

        // Act
        using var forbidden = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body("fake-tool")));
        using var unserved = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body("claude-opus-4-1")));
        using var allowed = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body("fake-text")));

        // Assert
        await GatewayAssert.ErrorAsync(forbidden, 403, "permission_error");
        await GatewayAssert.ErrorAsync(unserved, 404, "not_found_error", "model: claude-opus-4-1");
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        var records = await WaitForRecordsAsync(scenario, 3);
        Assert.Equal([200, 403, 404], records.Select(static r => r.Status).Order());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Keys_DisabledExpiredOrUnknown_AreRejected_AndBearerIsAccepted(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        var (disabled, _) = await scenario.Environment.CreateKeyAsync(disabled: true);
        var (expired, _) = await scenario.Environment.CreateKeyAsync(expiresAt: DateTimeOffset.UtcNow.AddMinutes(-1));
        using var http = scenario.Http();

        // Act
        using var disabledResponse = await http.SendAsync(RawClient.Messages(disabled, RawClient.Body("m")));
        using var expiredResponse = await http.SendAsync(RawClient.Messages(expired, RawClient.Body("m")));
        using var unknownResponse = await http.SendAsync(RawClient.Messages("sk-qh-unknown", RawClient.Body("m")));
        using var missingResponse = await http.SendAsync(RawClient.Messages(null, RawClient.Body("m")));
        using var bearer = RawClient.Messages("sk-qh-wrong", RawClient.Body("m"));
        bearer.Headers.TryAddWithoutValidation("Authorization", "bearer  " + scenario.Secret + " ");
        using var bearerResponse = await http.SendAsync(bearer);

        // Assert
        await GatewayAssert.ErrorAsync(disabledResponse, 401, "authentication_error", "invalid x-api-key");
        await GatewayAssert.ErrorAsync(expiredResponse, 401, "authentication_error", "invalid x-api-key");
        await GatewayAssert.ErrorAsync(unknownResponse, 401, "authentication_error", "invalid x-api-key");
        await GatewayAssert.ErrorAsync(missingResponse, 401, "authentication_error", "x-api-key header is required");
        Assert.Equal(HttpStatusCode.OK, bearerResponse.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task RootAndUnknownPaths_AnswerWithoutKey(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        using var http = scenario.Http();

        // Act
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/"));
        using var get = await http.GetAsync("/");
        using var unknown = await http.GetAsync("/v1/unknown");

        // Assert
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.NotNull(RawClient.Header(head, "request-id"));
        await GatewayAssert.ErrorAsync(unknown, 404, "not_found_error");
    }

    private static async Task<List<UsageRecord>> WaitForRecordsAsync(GatewayScenario scenario, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var records = await scenario.Environment.AllUsageAsync(scenario.Key.Id);
            if (records.Count >= count || DateTime.UtcNow > deadline)
            {
                Assert.Equal(count, records.Count);
                return records;
            }

            await Task.Delay(50);
        }
    }
}
