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

        // Assert
        Assert.True(meter.Usage.Estimated);
        Assert.True(meter.Usage.OutputTokens > 1);
        Assert.Equal(30, meter.Usage.InputTokens);
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

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"usage\":\"nope\"}")]
    [InlineData("{\"usage\":{\"input_tokens\":\"7\"}}")]
    public void ObserveMessage_IgnoresWhatItCannotRead(string body)
    {
        // Arrange
        var meter = new UsageMeter();

        // Act
        meter.ObserveMessage(System.Text.Encoding.UTF8.GetBytes(body));
        meter.ObserveEvent("message_start", System.Text.Encoding.UTF8.GetBytes(body));

        // Assert
        Assert.Equal(0, meter.Usage.InputTokens);
    }
}
