using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Protocol.Sse;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Usage;

public sealed class UsageMeterTests
{
    [Theory]
    [InlineData("Anthropic/text.sse", 25, 15, 0, 0, true)]
    [InlineData("Anthropic/tool_use.sse", 472, 89, 0, 128, true)]
    [InlineData("Anthropic/thinking.sse", 12, 40, 0, 0, true)]
    [InlineData("Anthropic/midstream_error.sse", 30, 1, 0, 0, false)]
    public void ObserveEvent_CountsUsageFromStartAndDelta(string fixture, long input, long output, long creation, long read, bool complete)
    {
        // Arrange
        var meter = new UsageMeter();

        // Act
        foreach (var (name, data) in Fixtures.Events(fixture))
        {
            meter.ObserveEvent(name, System.Text.Encoding.UTF8.GetBytes(data));
        }

        // Assert: message_delta overwrites (never adds to) message_start's placeholder output.
        Assert.Equal((input, output, creation, read), (meter.Usage.InputTokens, meter.Usage.OutputTokens, meter.Usage.CacheCreationInputTokens, meter.Usage.CacheReadInputTokens));
        Assert.Equal(complete, meter.SawMessageStop);
        Assert.False(meter.Usage.Estimated);
    }

    [Fact]
    public void ObserveEvent_ReadsErrorEvents()
    {
        // Arrange
        var meter = new UsageMeter();

        // Act
        meter.ObserveEvent("error", """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"""u8);

        // Assert
        Assert.Equal(("overloaded_error", "Overloaded"), (meter.ErrorType, meter.ErrorMessage));
    }

    [Fact]
    public void ObserveEvent_KeepsTheRawUsageOfStartAndDelta_AsTheUpstreamWroteThem()
    {
        var meter = new UsageMeter();
        meter.ObserveEvent(EventNames.MessageDelta, """{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7}}"""u8);
        Assert.Equal("""{"message_delta":{"output_tokens":7}}""", meter.Usage.Raw);

        meter = new UsageMeter();
        meter.ObserveEvent(EventNames.MessageStart,
            """{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":12, "output_tokens":1}}}"""u8);
        Assert.Equal("""{"message_start":{"input_tokens":12, "output_tokens":1}}""", meter.Usage.Raw);

        meter.ObserveEvent(EventNames.MessageDelta, """{"type":"message_delta","usage":{"output_tokens":30}}"""u8);
        Assert.Equal("""{"message_start":{"input_tokens":12, "output_tokens":1},"message_delta":{"output_tokens":30}}""", meter.Usage.Raw);
    }

    [Fact]
    public void ObserveEvent_KeepsRawUsageBeyondAscii_AndReadsItsValues()
    {
        // Arrange: values outside ASCII (two- and three-byte UTF-8, an escape) in both usage objects, and the known
        // values the meter keeps without a new string (speed, tier, stop reason) beside ones it does not know.
        var meter = new UsageMeter();

        // Act
        meter.ObserveEvent(EventNames.MessageStart,
            """{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":5,"inference_geo":"zürich-東京","service_tier":"priority"}}}"""u8);
        meter.ObserveEvent(EventNames.MessageDelta,
            """{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":9,"speed":"fast","note":"\u00e9"}}"""u8);

        // Assert
        Assert.Equal(
            """{"message_start":{"input_tokens":5,"inference_geo":"zürich-東京","service_tier":"priority"},"message_delta":{"output_tokens":9,"speed":"fast","note":"\u00e9"}}""",
            meter.Usage.Raw);
        Assert.Equal(("zürich-東京", "priority", "fast", "max_tokens"), (meter.Usage.InferenceGeo, meter.Usage.ServiceTier, meter.Usage.Speed, meter.StopReason));
        Assert.Equal((5, 9), (meter.Usage.InputTokens, meter.Usage.OutputTokens));
    }

    [Fact]
    public void EstimateIfIncomplete_EstimatesOutputFromDeltas_AndFlagsIt()
    {
        // Arrange
        var meter = new UsageMeter();
        foreach (var (name, data) in Fixtures.Events("Anthropic/midstream_error.sse").Take(3))
        {
            meter.ObserveEvent(name, System.Text.Encoding.UTF8.GetBytes(data));
        }

        // Act
        meter.EstimateIfIncomplete();

        // Assert: one delta of 106 bytes is (106 + 3) / 4 = 27 tokens, which replaces message_start's placeholder of 1.
        Assert.True(meter.Usage.Estimated);
        Assert.Equal(106, meter.OutputCharacters);
        Assert.Equal(27, meter.Usage.OutputTokens);
        Assert.Equal(30, meter.Usage.InputTokens);
    }

    [Fact]
    public void EstimateIfIncomplete_KeepsTheReportedCount_WhenTheStreamHadItsMessageDelta()
    {
        // Arrange
        var meter = new UsageMeter();
        foreach (var (name, data) in Fixtures.Events("Anthropic/text.sse"))
        {
            meter.ObserveEvent(name, System.Text.Encoding.UTF8.GetBytes(data));
        }

        // Act
        meter.EstimateIfIncomplete();

        // Assert
        Assert.False(meter.Usage.Estimated);
        Assert.Equal(15, meter.Usage.OutputTokens);
    }

    [Fact]
    public void ObserveMessage_ReadsUsageWithCacheSplit_AndKeepsTheRawObject()
    {
        // Arrange
        var meter = new UsageMeter();

        // Act
        meter.ObserveMessage(Fixtures.Bytes("Anthropic/text.json"));

        // Assert
        var usage = meter.Usage;
        Assert.Equal((25L, 15L, 100L, 2000L, 60L, 40L), (usage.InputTokens, usage.OutputTokens, usage.CacheCreationInputTokens, usage.CacheReadInputTokens, usage.CacheCreation5mInputTokens!.Value, usage.CacheCreation1hInputTokens!.Value));
        Assert.Contains("\"service_tier\":\"standard\"", usage.Raw, StringComparison.Ordinal);
        Assert.Equal("end_turn", meter.StopReason);
    }

    [Fact]
    public void Observe_ReadsServerToolUsesAndPricedOptions_FromAWholeMessageAndAStream()
    {
        // Arrange: the usage Anthropic reports with web search in fast mode, in the US (docs/usage-records.md).
        const string usage = """
            {"input_tokens":105,"output_tokens":40,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,
             "server_tool_use":{"web_search_requests":3,"web_fetch_requests":1},"service_tier":"priority","speed":"fast","inference_geo":"us"}
            """;
        var whole = new UsageMeter();
        var streamed = new UsageMeter();

        // Act: in a stream, message_start has no search yet; message_delta carries the cumulative counts.
        whole.ObserveMessage(System.Text.Encoding.UTF8.GetBytes("{\"id\":\"msg_1\",\"usage\":" + usage + "}"));
        streamed.ObserveEvent("message_start", System.Text.Encoding.UTF8.GetBytes(
            "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":105,\"output_tokens\":1,\"service_tier\":\"priority\"}}}"));
        streamed.ObserveEvent("message_delta", System.Text.Encoding.UTF8.GetBytes("{\"type\":\"message_delta\",\"delta\":{},\"usage\":" + usage + "}"));

        // Assert
        foreach (var meter in (UsageMeter[])[whole, streamed])
        {
            var counted = meter.Usage;
            Assert.Equal(((long?)3, (long?)1), (counted.WebSearchRequests, counted.WebFetchRequests));
            Assert.Equal(("priority", "fast", "us"), (counted.ServiceTier, counted.Speed, counted.InferenceGeo));
        }
    }

    [Theory]
    [InlineData("not json", 0L)]
    [InlineData("[1,2]", 0L)]
    [InlineData("{\"usage\":\"nope\"}", 0L)]
    [InlineData("{\"usage\":{\"input_tokens\":\"7\"}}", 0L)]
    [InlineData("{\"usage\":{\"input_tokens\":\"7\",\"output_tokens\":5}}", 5L)]
    public void Observe_SkipsUsageItCannotRead_AndReadsTheRest(string message, long output)
    {
        // Arrange: the same message as a whole answer, and as the message of a stream's message_start.
        var whole = new UsageMeter();
        var streamed = new UsageMeter();

        // Act
        whole.ObserveMessage(System.Text.Encoding.UTF8.GetBytes(message));
        streamed.ObserveEvent("message_start", System.Text.Encoding.UTF8.GetBytes("{\"type\":\"message_start\",\"message\":" + message + "}"));

        // Assert: nothing unreadable is counted (a string is not a number), and what is readable still is.
        foreach (var meter in (UsageMeter[])[whole, streamed])
        {
            var usage = meter.Usage;
            Assert.Equal((0L, output, 0L, 0L, (long?)null, (long?)null),
                (usage.InputTokens, usage.OutputTokens, usage.CacheCreationInputTokens, usage.CacheReadInputTokens, usage.CacheCreation5mInputTokens, usage.CacheCreation1hInputTokens));
            Assert.False(usage.Estimated);
            Assert.Null(meter.MessageId);
            Assert.Null(meter.StopReason);
            Assert.Null(meter.ErrorType);
        }
    }

    /// <summary>
    /// Objects that test where a forward reader and a document can part: a name given twice (the last one decides), a
    /// member of the wrong kind, numbers that do not fit, escapes, nesting, text after the object, malformed JSON.
    /// </summary>
    public static TheoryData<string, string> TrickyObjects => new()
    {
        { EventNames.MessageStart, """{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":25,"output_tokens":1}}}""" },
        { EventNames.MessageStart, """{"message":{"id":"msg_1","usage":{"input_tokens":25}},"message":{"id":"msg_2","usage":{"output_tokens":3}}}""" },
        { EventNames.MessageStart, """{"message":{"id":"msg_1","usage":{"input_tokens":25}},"message":"not an object"}""" },
        { EventNames.MessageStart, """{"message":{"usage":{"input_tokens":25,"input_tokens":"x"},"id":7}}""" },
        { EventNames.MessageStart, """{"message":{"usage":{"input_tokens":25},"usage":[1,2]}}""" },
        { EventNames.MessageStart, """{"message":{"id":"msg_\u00e9\n","usage":{ "input_tokens" : 9223372036854775807 , "output_tokens":9223372036854775808}}}""" },
        { EventNames.MessageStart, """{"message":{"usage":{"input_tokens":1.5,"output_tokens":-4,"cache_read_input_tokens":1e3}}}""" },
        { EventNames.MessageStart, """{"message":{"content":[{"a":{"b":[{"c":null}]}}],"usage":{"in\u0070ut_tokens":12,"cache_creation":{"ephemeral_5m_input_tokens":3,"ephemeral_1h_input_tokens":4},"cache_creation":{"ephemeral_1h_input_tokens":8}}}}""" },
        { EventNames.MessageStart, """{"message":{"usage":{"server_tool_use":{"web_search_requests":2,"web_fetch_requests":1},"server_tool_use":null,"service_tier":"priority","speed":"fast","inference_geo":"us"}}}""" },
        { EventNames.MessageStart, """{"message":{"usage":{"input_tokens":25}}} trailing""" },
        { EventNames.MessageStart, """{"message":{"usage":{"input_tokens":25}}""" },
        { EventNames.MessageStart, """[{"message":{"usage":{"input_tokens":25}}}]""" },
        { EventNames.MessageStart, """{"message":{"usage":{"input_tokens":25,}}}""" },
        { EventNames.MessageDelta, """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}""" },
        { EventNames.MessageDelta, """{"delta":{"stop_reason":"end_turn"},"delta":{"stop_reason":null},"usage":{"output_tokens":15},"usage":{"input_tokens":2}}""" },
        { EventNames.MessageDelta, """{"delta":"end_turn","usage":{"output_tokens":{"nested":1},"service_tier":7}}""" },
        { EventNames.MessageDelta, """{"usage":{"output_tokens":15,"server_tool_use":{"web_search_requests":"2","web_fetch_requests":3}}}""" },
        { EventNames.Error, """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""" },
        { EventNames.Error, """{"type":"error","error":{"type":"api_error","message":"first"},"error":{"message":"second"}}""" },
        { EventNames.Error, """{"type":"error","error":"a string"}""" },
        { EventNames.Error, """not json""" },
    };

    [Theory]
    [MemberData(nameof(TrickyObjects))]
    public void ObserveEvent_ReadsEachObjectAsAJsonDocumentWould(string eventType, string json)
    {
        // Arrange: the meter after a first message_start, so that what a later object leaves alone shows too.
        var meter = new UsageMeter();
        var expected = new ReferenceMeter();
        const string First = """{"message":{"id":"msg_0","usage":{"input_tokens":100,"output_tokens":1,"cache_read_input_tokens":7,"service_tier":"standard"}}}""";
        meter.ObserveEvent(EventNames.MessageStart, Encoding.UTF8.GetBytes(First));
        expected.Observe(EventNames.MessageStart, First);

        // Act
        meter.ObserveEvent(eventType, Encoding.UTF8.GetBytes(json));
        expected.Observe(eventType, json);

        // Assert
        Assert.Equal(expected.Describe(), Describe(meter));
    }

    [Theory]
    [MemberData(nameof(TrickyObjects))]
    public void ObserveMessage_ReadsEachObjectAsAJsonDocumentWould(string eventType, string json)
    {
        // Arrange: the same objects as whole messages (their own id, stop_reason and usage, if any).
        _ = eventType;
        var meter = new UsageMeter();
        var expected = new ReferenceMeter();

        // Act
        meter.ObserveMessage(Encoding.UTF8.GetBytes(json));
        expected.ObserveMessage(json);

        // Assert
        Assert.Equal(expected.Describe(), Describe(meter));
    }

    private static string Describe(UsageMeter meter)
    {
        var usage = meter.Usage;
        return string.Join(" | ", meter.MessageId, meter.StopReason, meter.ErrorType, meter.ErrorMessage, usage.InputTokens,
            usage.OutputTokens, usage.CacheCreationInputTokens, usage.CacheReadInputTokens, usage.CacheCreation5mInputTokens,
            usage.CacheCreation1hInputTokens, usage.WebSearchRequests, usage.WebFetchRequests, usage.ServiceTier, usage.Speed,
            usage.InferenceGeo, usage.Raw);
    }

    /// <summary>What the meter must find, read the plain way: a JsonDocument per object and TryGetProperty.</summary>
    private sealed class ReferenceMeter
    {
        private readonly TokenUsage _usage = new();
        private string? _messageId;
        private string? _stopReason;
        private string? _errorType;
        private string? _errorMessage;
        private string? _start;
        private string? _delta;

        public void Observe(string eventType, string json)
        {
            var root = Parse(json);
            if (eventType == EventNames.MessageStart && root is { } start &&
                start.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object)
            {
                _messageId = Text(message, "id");
                if (message.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    Apply(usage);
                    _start = usage.GetRawText();
                }
            }
            else if (eventType == EventNames.MessageDelta && root is { } delta)
            {
                if (delta.TryGetProperty("delta", out var inner) && inner.ValueKind == JsonValueKind.Object)
                {
                    _stopReason = Text(inner, "stop_reason") ?? _stopReason;
                }

                if (delta.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    Apply(usage);
                    _delta = usage.GetRawText();
                }
            }
            else if (eventType == EventNames.Error)
            {
                if (root is { } failure && failure.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
                {
                    _errorType = Text(error, "type");
                    _errorMessage = Text(error, "message");
                }

                _errorType ??= "api_error";
            }

            _usage.Raw = (_start, _delta) switch
            {
                (null, null) => null,
                (_, null) => "{\"message_start\":" + _start + "}",
                (null, _) => "{\"message_delta\":" + _delta + "}",
                _ => "{\"message_start\":" + _start + ",\"message_delta\":" + _delta + "}",
            };
        }

        public void ObserveMessage(string json)
        {
            if (Parse(json) is not { } root)
            {
                return;
            }

            _messageId = Text(root, "id");
            _stopReason = Text(root, "stop_reason");
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                Apply(usage);
                _usage.Raw = usage.GetRawText();
            }
        }

        public string Describe() => string.Join(" | ", _messageId, _stopReason, _errorType, _errorMessage, _usage.InputTokens,
            _usage.OutputTokens, _usage.CacheCreationInputTokens, _usage.CacheReadInputTokens, _usage.CacheCreation5mInputTokens,
            _usage.CacheCreation1hInputTokens, _usage.WebSearchRequests, _usage.WebFetchRequests, _usage.ServiceTier, _usage.Speed,
            _usage.InferenceGeo, _usage.Raw);

        private static JsonElement? Parse(string json)
        {
            try
            {
                var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
                var root = JsonElement.ParseValue(ref reader);
                return root.ValueKind == JsonValueKind.Object ? root : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }

        private void Apply(JsonElement usage)
        {
            _usage.InputTokens = Count(usage, "input_tokens") ?? _usage.InputTokens;
            _usage.OutputTokens = Count(usage, "output_tokens") ?? _usage.OutputTokens;
            _usage.CacheCreationInputTokens = Count(usage, "cache_creation_input_tokens") ?? _usage.CacheCreationInputTokens;
            _usage.CacheReadInputTokens = Count(usage, "cache_read_input_tokens") ?? _usage.CacheReadInputTokens;
            if (usage.TryGetProperty("server_tool_use", out var tools) && tools.ValueKind == JsonValueKind.Object)
            {
                _usage.WebSearchRequests = Count(tools, "web_search_requests") ?? _usage.WebSearchRequests;
                _usage.WebFetchRequests = Count(tools, "web_fetch_requests") ?? _usage.WebFetchRequests;
            }

            _usage.ServiceTier = Text(usage, "service_tier") ?? _usage.ServiceTier;
            _usage.Speed = Text(usage, "speed") ?? _usage.Speed;
            _usage.InferenceGeo = Text(usage, "inference_geo") ?? _usage.InferenceGeo;
            if (usage.TryGetProperty("cache_creation", out var split) && split.ValueKind == JsonValueKind.Object)
            {
                _usage.CacheCreation5mInputTokens = Count(split, "ephemeral_5m_input_tokens") ?? _usage.CacheCreation5mInputTokens;
                _usage.CacheCreation1hInputTokens = Count(split, "ephemeral_1h_input_tokens") ?? _usage.CacheCreation1hInputTokens;
            }
        }

        private static long? Count(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var count)
                ? count
                : null;

        private static string? Text(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }
}
