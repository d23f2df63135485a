using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Translation;

namespace Qhaigc.Functions.Tests.Translation;

/// <summary>
/// Streams in both directions (docs/openai-compatibility.md#94-streams-openai-to-claude), from recorded fixtures delivered at awkward byte boundaries (1, 2, 3,
/// 5 and 7 bytes per read, splitting lines, JSON strings and multi-byte UTF-8): every split gives the same events, and
/// the events form a valid stream of the other format.
/// </summary>
public sealed class StreamTranslationTests
{
    public static TheoryData<int> Splits => new(1, 2, 3, 5, 7, 4096);

    [Theory]
    [MemberData(nameof(Splits))]
    public async Task OpenAiText_BecomesClaudeEventSequence(int split)
    {
        // Act
        var (events, translator) = await ToClaudeAsync("OpenAi/text.sse", split);

        // Assert
        Assert.Equal(["message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_delta",
            "content_block_stop", "message_delta", "message_stop"], events.Select(static e => e.Name));
        AssertValidClaudeStream(events);
        Assert.Equal("Hello, world — ünïcödé ✓", Text(events));
        var delta = Data(events, "message_delta");
        Assert.Equal("end_turn", delta.GetProperty("delta").GetProperty("stop_reason").GetString());
        JsonAssert.Equal("""{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":15}""", delta.GetProperty("usage").GetRawText());
        Assert.Equal("fake-model", Data(events, "message_start").GetProperty("message").GetProperty("model").GetString());
        Assert.False(translator.UsageEstimated);
    }

    [Theory]
    [MemberData(nameof(Splits))]
    public async Task OpenAiToolCalls_BecomeToolUseBlock_WithEachFragmentAsItArrives(int split)
    {
        // Act
        var (events, _) = await ToClaudeAsync("OpenAi/tool_calls.sse", split);

        // Assert: text block 0, tool block 1, three argument fragments passed on one by one.
        AssertValidClaudeStream(events);
        var starts = events.Where(static e => e.Name == "content_block_start").Select(static e => e.Json.GetProperty("content_block")).ToList();
        Assert.Equal(["text", "tool_use"], starts.Select(static b => b.GetProperty("type").GetString()));
        Assert.Equal(("call_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather"), (starts[1].GetProperty("id").GetString(), starts[1].GetProperty("name").GetString()));
        var fragments = PartialJson(events, 1);
        Assert.Equal(3, fragments.Count);
        Assert.True(ExpectedAnswer.SameJson(string.Concat(fragments)));
        Assert.Equal("Let me check the weather.", Text(events));
        var delta = Data(events, "message_delta");
        Assert.Equal("tool_use", delta.GetProperty("delta").GetProperty("stop_reason").GetString());
        JsonAssert.Equal("""{"input_tokens":472,"cache_creation_input_tokens":0,"cache_read_input_tokens":128,"output_tokens":89}""", delta.GetProperty("usage").GetRawText());
    }

    [Theory]
    [MemberData(nameof(Splits))]
    public async Task OpenAiReasoningAndParallelCalls_BecomeThinkingThenOneBlockPerCall(int split)
    {
        // Act
        var (events, _) = await ToClaudeAsync("OpenAi/reasoning_parallel_tools.sse", split);

        // Assert
        AssertValidClaudeStream(events);
        var starts = events.Where(static e => e.Name == "content_block_start").Select(static e => e.Json.GetProperty("content_block")).ToList();
        Assert.Equal(["thinking", "tool_use", "tool_use"], starts.Select(static b => b.GetProperty("type").GetString()));
        Assert.Equal(["call_a_1", "call_b_2"], starts.Skip(1).Select(static b => b.GetProperty("id").GetString()));
        Assert.Equal("""{"location":"Paris"}""", string.Concat(PartialJson(events, 1)));
        Assert.Equal("""{"location":"Oslo"}""", string.Concat(PartialJson(events, 2)));
        var thinking = string.Concat(events.Where(static e => e.Name == "content_block_delta" && e.Json.GetProperty("delta").GetProperty("type").GetString() == "thinking_delta")
            .Select(static e => e.Json.GetProperty("delta").GetProperty("thinking").GetString()));
        Assert.Equal("The user wants two cities. Call twice.", thinking);
    }

    [Theory]
    [MemberData(nameof(Splits))]
    public async Task OpenAiStreamWithoutUsage_EndsWithEstimatedUsage(int split)
    {
        // Act
        var (events, translator) = await ToClaudeAsync("OpenAi/no_usage.sse", split);

        // Assert
        AssertValidClaudeStream(events);
        Assert.True(translator.UsageEstimated);
        var usage = Data(events, "message_delta").GetProperty("usage");
        Assert.Equal((42, 2), (usage.GetProperty("input_tokens").GetInt64(), usage.GetProperty("output_tokens").GetInt64()));
    }

    [Theory]
    [MemberData(nameof(Splits))]
    public async Task OpenAiLength_BecomesMaxTokens(int split)
    {
        var (events, _) = await ToClaudeAsync("OpenAi/length.sse", split);

        Assert.Equal("max_tokens", Data(events, "message_delta").GetProperty("delta").GetProperty("stop_reason").GetString());
    }

    [Theory]
    [MemberData(nameof(Splits))]
    public async Task OpenAiMidStreamError_EndsWithClaudeErrorEvent_AndNoMessageStop(int split)
    {
        // Act
        var (events, _) = await ToClaudeAsync("OpenAi/midstream_error.sse", split);

        // Assert
        Assert.Equal("error", events[^1].Name);
        Assert.DoesNotContain(events, static e => e.Name == "message_stop");
        Assert.Equal("api_error", events[^1].Json.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal("The server had an error while processing your request.", events[^1].Json.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task OpenAiStreamCutBeforeFinish_EndsWithoutMessageStop()
    {
        // Arrange: the first three chunks only, no finish_reason and no [DONE].
        var blocks = Fixtures.Text("OpenAi/text.sse").Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var cut = Encoding.UTF8.GetBytes(string.Join("", blocks.Take(3).Select(static b => b + "\n\n")));

        // Act
        var (events, _) = await ToClaudeAsync(cut, 3);

        // Assert: the relay sees no message_stop and reports the truncation itself.
        Assert.Equal("message_start", events[0].Name);
        Assert.DoesNotContain(events, static e => e.Name is "message_delta" or "message_stop");
    }

    [Fact]
    public void ChunksAfterFinalMessageDelta_AreDropped()
    {
        // Arrange
        var translator = new ChatStreamToClaude(Context());
        translator.OnData("""{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]}"""u8);
        var end = translator.OnData("""{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}"""u8).Select(static e => e.EventType).ToList();

        // Act
        var after = translator.OnData("""{"choices":[{"index":0,"delta":{"content":"late"}}]}"""u8);

        // Assert
        Assert.Equal(["message_delta", "message_stop"], end);
        Assert.Empty(after);
        Assert.True(translator.Finished);
    }

    [Theory]
    [MemberData(nameof(Splits))]
    public async Task ClaudeText_BecomesOpenAiChunks_WithUsageAndDone(int split)
    {
        // Act
        var payloads = await ToOpenAiAsync("Anthropic/text.sse", split, includeUsage: true);

        // Assert
        Assert.Equal("[DONE]", payloads[^1]);
        var chunks = payloads.SkipLast(1).Select(static p => JsonDocument.Parse(p).RootElement).ToList();
        Assert.All(chunks, static c => Assert.Equal(("chatcmpl-x", "chat.completion.chunk", 1700000000L, "client-model"),
            (c.GetProperty("id").GetString(), c.GetProperty("object").GetString(), c.GetProperty("created").GetInt64(), c.GetProperty("model").GetString())));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal("Hello, world — ünïcödé ✓", ContentOf(chunks));
        var finish = chunks.Single(static c => c.GetProperty("choices").GetArrayLength() > 0 && c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind == JsonValueKind.String);
        Assert.Equal("stop", finish.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var usage = chunks[^1];
        Assert.Equal(0, usage.GetProperty("choices").GetArrayLength());
        Assert.Equal((25, 15, 40), (usage.GetProperty("usage").GetProperty("prompt_tokens").GetInt64(),
            usage.GetProperty("usage").GetProperty("completion_tokens").GetInt64(), usage.GetProperty("usage").GetProperty("total_tokens").GetInt64()));
        Assert.All(chunks.SkipLast(1), static c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
    }

    [Fact]
    public async Task ClaudeText_HasNoUsageChunk_WhenClientDidNotAskForIt()
    {
        var payloads = await ToOpenAiAsync("Anthropic/text.sse", 4096, includeUsage: false);

        Assert.Equal("[DONE]", payloads[^1]);
        Assert.All(payloads.SkipLast(1), static p => Assert.False(JsonDocument.Parse(p).RootElement.TryGetProperty("usage", out _)));
    }

    [Theory]
    [MemberData(nameof(Splits))]
    public async Task ClaudeToolUse_BecomesToolCallZero_WithArgumentFragments(int split)
    {
        // Act
        var payloads = await ToOpenAiAsync("Anthropic/tool_use.sse", split, includeUsage: true);

        // Assert
        var chunks = payloads.SkipLast(1).Select(static p => JsonDocument.Parse(p).RootElement).ToList();
        var calls = chunks.Where(static c => c.GetProperty("choices").GetArrayLength() > 0 &&
                                             c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("tool_calls", out _))
            .Select(static c => c.GetProperty("choices")[0].GetProperty("delta").GetProperty("tool_calls")[0]).ToList();
        Assert.All(calls, static c => Assert.Equal(0, c.GetProperty("index").GetInt32()));
        Assert.Equal("toolu_01T1x1fJ34qAmk2tNTrN7Up6", calls[0].GetProperty("id").GetString());
        Assert.Equal("get_weather", calls[0].GetProperty("function").GetProperty("name").GetString());
        Assert.True(ExpectedAnswer.SameJson(string.Concat(calls.Select(static c => c.GetProperty("function").GetProperty("arguments").GetString()))));
        Assert.Equal("Let me check the weather.", ContentOf(chunks));
        Assert.Contains(chunks, static c => c.GetProperty("choices").GetArrayLength() > 0 && c.GetProperty("choices")[0].GetProperty("finish_reason").GetString() == "tool_calls");
        Assert.Equal((600, 89), (chunks[^1].GetProperty("usage").GetProperty("prompt_tokens").GetInt64(), chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt64()));
        Assert.Equal(128, chunks[^1].GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt64());
    }

    [Fact]
    public async Task ClaudeThinking_BecomesReasoningContent_AndToolIndexCountsToolBlocksOnly()
    {
        // Arrange: thinking at block 0 then a tool at block 1 must still be tool call 0 (new-api's off-by-one).
        const string Sse = """
            event: message_start
            data: {"type":"message_start","message":{"usage":{"input_tokens":3,"output_tokens":1}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":0}

            event: content_block_start
            data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_9","name":"w","input":{}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{}"}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":4}}

            event: message_stop
            data: {"type":"message_stop"}


            """;

        // Act
        var payloads = await ToOpenAiAsync(Encoding.UTF8.GetBytes(Sse.Replace("\r\n", "\n", StringComparison.Ordinal)), 2, includeUsage: false);

        // Assert
        var deltas = payloads.SkipLast(1).Select(static p => JsonDocument.Parse(p).RootElement.GetProperty("choices")[0].GetProperty("delta")).ToList();
        Assert.Contains(deltas, static d => d.TryGetProperty("reasoning_content", out var r) && r.GetString() == "hmm");
        Assert.All(deltas.Where(static d => d.TryGetProperty("tool_calls", out _)), static d => Assert.Equal(0, d.GetProperty("tool_calls")[0].GetProperty("index").GetInt32()));
    }

    [Theory]
    [MemberData(nameof(Splits))]
    public async Task ClaudeMidStreamError_BecomesErrorPayload_WithoutDone(int split)
    {
        // Act
        var payloads = await ToOpenAiAsync("Anthropic/midstream_error.sse", split, includeUsage: true);

        // Assert
        Assert.DoesNotContain("[DONE]", payloads);
        var error = JsonDocument.Parse(payloads[^1]).RootElement.GetProperty("error");
        Assert.Equal(("Overloaded", "overloaded_error"), (error.GetProperty("message").GetString(), error.GetProperty("type").GetString()));
    }

    private static async Task<(List<ClaudeEvent> Events, ChatStreamToClaude Translator)> ToClaudeAsync(string fixture, int split) =>
        await ToClaudeAsync(Fixtures.Bytes(fixture), split);

    private static async Task<(List<ClaudeEvent> Events, ChatStreamToClaude Translator)> ToClaudeAsync(byte[] sse, int split)
    {
        var translator = new ChatStreamToClaude(Context());
        var upstream = SseParser.Create(new ChunkedStream(sse, split), static (_, data) => new ReadOnlyMemory<byte>(data.ToArray())).EnumerateAsync().GetAsyncEnumerator();
        var events = new List<ClaudeEvent>();
        await using var translated = new ChatStreamEvents(upstream, translator);
        while (await translated.MoveNextAsync())
        {
            var item = translated.Current;
            events.Add(new ClaudeEvent(item.EventType, JsonDocument.Parse(item.Data).RootElement));
        }

        return (events, translator);
    }

    private static async Task<List<string>> ToOpenAiAsync(string fixture, int split, bool includeUsage) =>
        await ToOpenAiAsync(Fixtures.Bytes(fixture), split, includeUsage);

    private static async Task<List<string>> ToOpenAiAsync(byte[] sse, int split, bool includeUsage)
    {
        var translator = new ClaudeStreamToChat("chatcmpl-x", 1700000000, "client-model", includeUsage);
        var payloads = new List<string>();
        await foreach (var item in SseParser.Create(new ChunkedStream(sse, split), static (_, data) => data.ToArray()).EnumerateAsync())
        {
            payloads.AddRange(translator.OnEvent(item.EventType, item.Data).Select(static p => Encoding.UTF8.GetString(p)));
            if (translator.Finished)
            {
                break;
            }
        }

        return payloads;
    }

    /// <summary>Spec §4.3–4.4: start first, blocks strictly in sequence from 0, each stopped before the next starts.</summary>
    private static void AssertValidClaudeStream(List<ClaudeEvent> events)
    {
        Assert.Equal("message_start", events[0].Name);
        Assert.Single(events, static e => e.Name == "message_start");
        var next = 0;
        int? open = null;
        foreach (var item in events)
        {
            Assert.Equal(item.Name, item.Json.GetProperty("type").GetString());
            switch (item.Name)
            {
                case "content_block_start":
                    Assert.Null(open);
                    Assert.Equal(next, item.Json.GetProperty("index").GetInt32());
                    open = next++;
                    break;
                case "content_block_delta":
                    Assert.Equal(open, item.Json.GetProperty("index").GetInt32());
                    break;
                case "content_block_stop":
                    Assert.Equal(open, item.Json.GetProperty("index").GetInt32());
                    open = null;
                    break;
                case "message_delta" or "message_stop":
                    Assert.Null(open);
                    break;
            }
        }

        Assert.Equal("message_stop", events[^1].Name);
    }

    private static string Text(List<ClaudeEvent> events) => string.Concat(events
        .Where(static e => e.Name == "content_block_delta" && e.Json.GetProperty("delta").GetProperty("type").GetString() == "text_delta")
        .Select(static e => e.Json.GetProperty("delta").GetProperty("text").GetString()));

    private static List<string> PartialJson(List<ClaudeEvent> events, int index) => events
        .Where(e => e.Name == "content_block_delta" && e.Json.GetProperty("index").GetInt32() == index)
        .Select(static e => e.Json.GetProperty("delta").GetProperty("partial_json").GetString()!).ToList();

    private static JsonElement Data(List<ClaudeEvent> events, string name) => events.Single(e => e.Name == name).Json;

    private static string ContentOf(List<JsonElement> chunks) => string.Concat(chunks
        .Where(static c => c.GetProperty("choices").GetArrayLength() > 0)
        .Select(static c => c.GetProperty("choices")[0].GetProperty("delta"))
        .Where(static d => d.TryGetProperty("content", out _))
        .Select(static d => d.GetProperty("content").GetString()));

    private static ChatAnswerContext Context() =>
        new("fake-model", new ToolNames(), [], static () => 42, static text => text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);

    private sealed record ClaudeEvent(string Name, JsonElement Json);
}
