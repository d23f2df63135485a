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
}
