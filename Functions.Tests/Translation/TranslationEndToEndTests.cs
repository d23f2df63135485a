using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Anthropic.Models.Messages;
using OpenAI.Chat;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Translation;

/// <summary>
/// Every combination of client format (Anthropic SDK on <c>/v1/messages</c>, OpenAI SDK on <c>/v1/chat/completions</c>,
/// <c>"style": "claude"</c> over plain HTTP) × upstream kind (Anthropic, OpenAI-compatible) × stream or not, for a text
/// answer and a tool call, over real HTTP: exact content, tool arguments, stop reason, usage and the usage record.
/// </summary>
public sealed class TranslationEndToEndTests
{
    private static readonly string[] WeatherRequired = ["location"];

    public static TheoryData<string, string, bool, bool> Matrix
    {
        get
        {
            var data = new TheoryData<string, string, bool, bool>();
            foreach (var mode in GatewayHosts.AvailableModes)
            {
                foreach (var kind in new[] { TranslationArrangement.Anthropic, TranslationArrangement.OpenAi })
                {
                    foreach (var stream in new[] { false, true })
                    {
                        foreach (var tool in new[] { false, true })
                        {
                            data.Add(mode, kind, stream, tool);
                        }
                    }
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task AnthropicSdk_GetsFaithfulClaudeAnswer_FromEitherUpstreamKind(string mode, string kind, bool stream, bool tool)
    {
        // Arrange
        await using var arrangement = await TranslationArrangement.StartAsync(mode, kind);
        var client = arrangement.Scenario.Sdk();
        var expected = ExpectedAnswer.For(stream, tool);
        var parameters = new MessageCreateParams
        {
            Model = tool ? FakeOpenAiUpstream.Models.ToolUse : FakeOpenAiUpstream.Models.Text,
            MaxTokens = 256,
            System = "Be brief.",
            Messages = [new UserMessageParam { Content = "Weather in SF?" }],
            Tools = tool ? [WeatherTool()] : null,
        };

        // Act
        string? text = null, toolId = null, toolName = null, toolJson = null, stopReason;
        long input, cacheCreation, cacheRead, output;
        if (!stream)
        {
            var message = await client.Messages.Create(parameters);
            foreach (var block in message.Content)
            {
                if (block.TryPickText(out var textBlock))
                {
                    text = (text ?? "") + textBlock.Text;
                }
                else if (block.TryPickToolUse(out var toolUse))
                {
                    (toolId, toolName) = (toolUse.ID, toolUse.Name);
                    toolJson = JsonSerializer.Serialize(toolUse.Input, JsonContext.Default.IReadOnlyDictionaryStringJsonElement);
                }
            }

            stopReason = message.StopReason?.Raw();
            (input, cacheCreation, cacheRead, output) = (message.Usage.InputTokens, message.Usage.CacheCreationInputTokens ?? 0,
                message.Usage.CacheReadInputTokens ?? 0, message.Usage.OutputTokens);
        }
        else
        {
            var json = new StringBuilder();
            var names = new List<string>();
            stopReason = null;
            (input, cacheCreation, cacheRead, output) = (0, 0, 0, 0);
            await foreach (var item in client.Messages.CreateStreaming(parameters))
            {
                names.Add(item.Value!.GetType().Name);
                if (item.TryPickStart(out var start))
                {
                    (input, cacheCreation, cacheRead) = (start.Message.Usage.InputTokens, start.Message.Usage.CacheCreationInputTokens ?? 0,
                        start.Message.Usage.CacheReadInputTokens ?? 0);
                }
                else if (item.TryPickContentBlockStart(out var blockStart) && blockStart.ContentBlock.TryPickToolUse(out var toolUse))
                {
                    (toolId, toolName) = (toolUse.ID, toolUse.Name);
                }
                else if (item.TryPickContentBlockDelta(out var delta))
                {
                    if (delta.Delta.TryPickText(out var textDelta))
                    {
                        text = (text ?? "") + textDelta.Text;
                    }
                    else if (delta.Delta.TryPickInputJson(out var inputJson))
                    {
                        json.Append(inputJson.PartialJson);
                    }
                }
                else if (item.TryPickDelta(out var messageDelta))
                {
                    stopReason = messageDelta.Delta.StopReason?.Raw();
                    output = messageDelta.Usage.OutputTokens;
                    input = messageDelta.Usage.InputTokens ?? input;
                    cacheRead = messageDelta.Usage.CacheReadInputTokens ?? cacheRead;
                    cacheCreation = messageDelta.Usage.CacheCreationInputTokens ?? cacheCreation;
                }
            }

            Assert.Equal("RawMessageStartEvent", names[0]);
            Assert.Equal("RawMessageStopEvent", names[^1]);
            toolJson = tool ? json.ToString() : null;
        }

        // Assert
        Assert.Equal(expected.Text, text);
        Assert.Equal(expected.StopReason, stopReason);
        Assert.Equal((expected.Input, expected.CacheCreation, expected.CacheRead, expected.Output), (input, cacheCreation, cacheRead, output));
        if (tool)
        {
            Assert.Equal((arrangement.ExpectedToolId, ExpectedAnswer.ToolName), (toolId, toolName));
            Assert.True(ExpectedAnswer.SameJson(toolJson!), toolJson);
        }

        var record = Assert.Single(await arrangement.WaitForRecordsAsync(1));
        AssertRecord(record, "messages", kind, stream, expected);
        if (kind == TranslationArrangement.OpenAi)
        {
            AssertTranslatedRequest(arrangement.OpenAiUpstream!, stream, tool);
        }
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task OpenAiSdk_GetsChatCompletion_FromEitherUpstreamKind(string mode, string kind, bool stream, bool tool)
    {
        // Arrange
        await using var arrangement = await TranslationArrangement.StartAsync(mode, kind);
        var client = arrangement.OpenAiSdk(tool ? FakeOpenAiUpstream.Models.ToolUse : FakeOpenAiUpstream.Models.Text);
        var expected = ExpectedAnswer.For(stream, tool);
        ChatMessage[] messages = [new SystemChatMessage("Be brief."), new UserChatMessage("Weather in SF?")];
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 256 };
        if (tool)
        {
            options.Tools.Add(ChatTool.CreateFunctionTool(ExpectedAnswer.ToolName, "Current weather",
                BinaryData.FromString("""{"type":"object","properties":{"location":{"type":"string"},"unit":{"type":"string"}},"required":["location"]}""")));
        }

        // Act
        string? text = null, toolId = null, toolName = null, toolJson = null;
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        if (!stream)
        {
            ChatCompletion completion = await client.CompleteChatAsync(messages, options);
            text = completion.Content.Count > 0 ? string.Concat(completion.Content.Select(static c => c.Text)) : null;
            if (completion.ToolCalls.Count > 0)
            {
                var call = Assert.Single(completion.ToolCalls);
                (toolId, toolName, toolJson) = (call.Id, call.FunctionName, call.FunctionArguments.ToString());
            }

            finish = completion.FinishReason;
            usage = completion.Usage;
        }
        else
        {
            var textBuilder = new StringBuilder();
            var json = new StringBuilder();
            await foreach (var update in client.CompleteChatStreamingAsync(messages, options))
            {
                foreach (var part in update.ContentUpdate)
                {
                    textBuilder.Append(part.Text);
                }

                foreach (var call in update.ToolCallUpdates)
                {
                    Assert.Equal(0, call.Index);
                    toolId ??= call.ToolCallId;
                    toolName ??= call.FunctionName;
                    json.Append(call.FunctionArgumentsUpdate?.ToString());
                }

                finish ??= update.FinishReason;
                usage ??= update.Usage;
            }

            text = textBuilder.Length > 0 ? textBuilder.ToString() : null;
            toolJson = tool ? json.ToString() : null;
        }

        // Assert
        Assert.Equal(expected.Text, text);
        Assert.Equal(tool ? ChatFinishReason.ToolCalls : ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal((expected.PromptTokens, expected.Output, expected.PromptTokens + expected.Output, expected.CacheRead),
            ((long)usage.InputTokenCount, (long)usage.OutputTokenCount, (long)usage.TotalTokenCount, (long)(usage.InputTokenDetails?.CachedTokenCount ?? 0)));
        if (tool)
        {
            Assert.Equal((arrangement.ExpectedToolId, ExpectedAnswer.ToolName), (toolId, toolName));
            Assert.True(ExpectedAnswer.SameJson(toolJson!), toolJson);
        }

        var record = Assert.Single(await arrangement.WaitForRecordsAsync(1));
        AssertRecord(record, "chat.completions", kind, stream, expected);
        if (kind == TranslationArrangement.OpenAi)
        {
            AssertTranslatedRequest(arrangement.OpenAiUpstream!, stream, tool);
        }
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task ClaudeStyle_GetsClaudeFormat_FromEitherUpstreamKind(string mode, string kind, bool stream, bool tool)
    {
        // Arrange
        await using var arrangement = await TranslationArrangement.StartAsync(mode, kind);
        using var http = arrangement.Scenario.Http();
        var expected = ExpectedAnswer.For(stream, tool);
        var tools = tool
            ? ""","tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]"""
            : "";
        var model = tool ? FakeOpenAiUpstream.Models.ToolUse : FakeOpenAiUpstream.Models.Text;
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent(
                $$"""{"model":"{{model}}","style":"Claude","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Weather in SF?"}]{{tools}}}""",
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", arrangement.Scenario.Secret);

        // Act
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStringAsync();

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string? text = null, toolId = null, toolJson = null, stopReason;
        long input, cacheCreation, cacheRead, output;
        if (!stream)
        {
            Assert.Equal("application/json", RawClient.ContentType(response)?.MediaType);
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            Assert.Equal("message", root.GetProperty("type").GetString());
            Assert.Equal(model, root.GetProperty("model").GetString());
            foreach (var block in root.GetProperty("content").EnumerateArray())
            {
                switch (block.GetProperty("type").GetString())
                {
                    case "text":
                        text = (text ?? "") + block.GetProperty("text").GetString();
                        break;
                    case "tool_use":
                        toolId = block.GetProperty("id").GetString();
                        toolJson = block.GetProperty("input").GetRawText();
                        break;
                }
            }

            stopReason = root.GetProperty("stop_reason").GetString();
            var usage = root.GetProperty("usage");
            (input, cacheCreation, cacheRead, output) = (usage.GetProperty("input_tokens").GetInt64(), usage.GetProperty("cache_creation_input_tokens").GetInt64(),
                usage.GetProperty("cache_read_input_tokens").GetInt64(), usage.GetProperty("output_tokens").GetInt64());
        }
        else
        {
            Assert.Equal("text/event-stream", RawClient.ContentType(response)?.MediaType);
            Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
            var events = Fixtures.ParseEvents(body).Where(static e => e.Event != "ping").ToList();
            Assert.Equal("message_start", events[0].Event);
            Assert.Equal("message_stop", events[^1].Event);
            var json = new StringBuilder();
            stopReason = null;
            (input, cacheCreation, cacheRead, output) = (0, 0, 0, 0);
            foreach (var (name, data) in events)
            {
                using var document = JsonDocument.Parse(data);
                var root = document.RootElement;
                Assert.Equal(name, root.GetProperty("type").GetString());
                switch (name)
                {
                    case "content_block_start" when root.GetProperty("content_block").GetProperty("type").GetString() == "tool_use":
                        toolId = root.GetProperty("content_block").GetProperty("id").GetString();
                        break;
                    case "content_block_delta":
                        var delta = root.GetProperty("delta");
                        if (delta.GetProperty("type").GetString() == "text_delta")
                        {
                            text = (text ?? "") + delta.GetProperty("text").GetString();
                        }
                        else
                        {
                            json.Append(delta.GetProperty("partial_json").GetString());
                        }

                        break;
                    case "message_delta":
                        stopReason = root.GetProperty("delta").GetProperty("stop_reason").GetString();
                        var usage = root.GetProperty("usage");
                        (input, cacheCreation, cacheRead, output) = (Number(usage, "input_tokens") ?? input, Number(usage, "cache_creation_input_tokens") ?? cacheCreation,
                            Number(usage, "cache_read_input_tokens") ?? cacheRead, Number(usage, "output_tokens") ?? output);
                        break;
                    case "message_start":
                        var startUsage = root.GetProperty("message").GetProperty("usage");
                        (input, cacheCreation, cacheRead) = (startUsage.GetProperty("input_tokens").GetInt64(),
                            startUsage.GetProperty("cache_creation_input_tokens").GetInt64(), startUsage.GetProperty("cache_read_input_tokens").GetInt64());
                        break;
                }
            }

            toolJson = tool ? json.ToString() : null;
        }

        Assert.Equal(expected.Text, text);
        Assert.Equal(expected.StopReason, stopReason);
        Assert.Equal((expected.Input, expected.CacheCreation, expected.CacheRead, expected.Output), (input, cacheCreation, cacheRead, output));
        if (tool)
        {
            Assert.Equal(arrangement.ExpectedToolId, toolId);
            Assert.True(ExpectedAnswer.SameJson(toolJson!), toolJson);
        }

        var record = Assert.Single(await arrangement.WaitForRecordsAsync(1));
        AssertRecord(record, "chat.completions+claude", kind, stream, expected);
    }

    private static long? Number(JsonElement element, string name) => element.TryGetProperty(name, out var value) ? value.GetInt64() : null;

    private static Tool WeatherTool() => new()
    {
        Name = ExpectedAnswer.ToolName,
        Description = "Current weather",
        InputSchema = new InputSchema
        {
            Properties = new Dictionary<string, JsonElement>
            {
                ["location"] = JsonDocument.Parse("""{"type":"string"}""").RootElement,
                ["unit"] = JsonDocument.Parse("""{"type":"string"}""").RootElement,
            },
            Required = WeatherRequired,
        },
    };

    private static void AssertRecord(UsageRecord record, string endpoint, string kind, bool stream, ExpectedAnswer expected)
    {
        Assert.Equal(endpoint, record.Endpoint);
        Assert.Equal(kind, record.Upstream);
        Assert.Equal(stream, record.Stream);
        Assert.Equal((200, UsageState.Complete), (record.Status, record.State));
        Assert.Equal((expected.Input, expected.CacheCreation, expected.CacheRead, expected.Output),
            (record.InputTokens, record.CacheCreationInputTokens, record.CacheReadInputTokens, record.OutputTokens));
        Assert.False(record.Estimated);
    }

    /// <summary>The OpenAI-compatible upstream got a Chat Completions request: its own key, the system prompt, usage asked for.</summary>
    private static void AssertTranslatedRequest(FakeOpenAiUpstream upstream, bool stream, bool tool)
    {
        var received = Assert.Single(upstream.Received);
        Assert.Equal("/v1/chat/completions", received.PathAndQuery);
        Assert.Equal("Bearer " + FakeOpenAiUpstream.UpstreamKey, received.Headers["authorization"]);
        Assert.False(received.Headers.ContainsKey("x-api-key"));
        using var document = JsonDocument.Parse(received.Body);
        var root = document.RootElement;
        var messages = root.GetProperty("messages");
        Assert.Equal("system", messages[0].GetProperty("role").GetString());
        Assert.Equal("Be brief.", messages[0].GetProperty("content").GetString());
        Assert.Equal("Weather in SF?", messages[1].GetProperty("content").GetString());
        Assert.Equal(stream, root.TryGetProperty("stream_options", out var streamOptions) && streamOptions.GetProperty("include_usage").GetBoolean());
        Assert.Equal(tool, root.TryGetProperty("tools", out var tools) && tools[0].GetProperty("function").GetProperty("name").GetString() == ExpectedAnswer.ToolName);
    }
}
