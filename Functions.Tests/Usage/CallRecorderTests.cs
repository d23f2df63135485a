using System.Diagnostics;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Usage;

public sealed class CallRecorderTests
{
    [Theory]
    [InlineData(true, "fast", "us")]
    [InlineData(false, null, null)]
    public void Finish_PricesAnEstimatedRecordAtTheRequestedOptions_ButAReportedOneAsReported(bool estimated, string? speed, string? geo)
    {
        // Arrange: a call that asked for fast mode in the US; its usage either never came (estimated) or came without
        // those fields (the upstream served it at the standard speed and region).
        var sink = new RecordingUsageSink();
        var call = new CallRecorder(sink, "req_1", "key", "messages", DateTimeOffset.UtcNow, Stopwatch.GetTimestamp())
        {
            RequestedOptions = ("fast", "us"),
        };

        // Act
        call.Finish(estimated ? 499 : 200, estimated ? UsageState.Cancelled : UsageState.Complete,
            usage: new TokenUsage { InputTokens = 10, Estimated = estimated });

        // Assert
        var record = Assert.Single(sink.Records);
        Assert.Equal((speed, geo), (record.Speed, record.InferenceGeo));
    }
}
