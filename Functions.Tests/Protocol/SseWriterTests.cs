using System.IO.Pipelines;
using System.Text;
using Qhaigc.Functions.Protocol.Sse;

namespace Qhaigc.Functions.Tests.Protocol;

public sealed class SseWriterTests
{
    [Theory]
    [InlineData("message_stop", "{\"type\":\"message_stop\"}", "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")]
    [InlineData("custom", "a\nb", "event: custom\ndata: a\ndata: b\n\n")]
    [InlineData("evil\nevent: injected", "x", "event: evil\ndata: x\n\n")]
    public async Task Write_FormatsOneEvent_SplittingDataLines(string name, string data, string expected)
    {
        // Arrange
        var pipe = new Pipe();

        // Act
        SseWriter.Write(pipe.Writer, name, Encoding.UTF8.GetBytes(data));
        await pipe.Writer.CompleteAsync();
        var written = await new StreamReader(pipe.Reader.AsStream()).ReadToEndAsync();

        // Assert
        Assert.Equal(expected, written);
    }
}
