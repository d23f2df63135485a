using System.Text;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Tests.Upstreams;

public sealed class LocalUpstreamTests
{
    [Theory]
    [InlineData("one two three", 10, null, "one two three", "end_turn", null)]
    [InlineData("one two three", 2, null, "one two ", "max_tokens", null)]
    [InlineData("one two STOP three", 10, "STOP", "one two ", "stop_sequence", "STOP")]
    [InlineData("", 10, null, "Hello from the Qhaigc local upstream.", "end_turn", null)]
    public void Compose_EchoesLastUserText_HonouringLimits(string text, int maxTokens, string? stop, string expected, string reason, string? stopSequence)
    {
        // Arrange
        var stops = stop is null ? "" : $",\"stop_sequences\":[\"{stop}\"]";
        var body = Encoding.UTF8.GetBytes($$"""{"model":"m","max_tokens":{{maxTokens}}{{stops}},"messages":[{"role":"user","content":"first"},{"role":"assistant","content":"ok"},{"role":"user","content":[{"type":"text","text":"{{text}}"}]}]}""");
        using var request = MessagesRequestValidator.Parse(body, out var error)!;
        Assert.Null(error);

        // Act
        var reply = LocalUpstream.Compose(request);

        // Assert
        Assert.Equal(expected, string.Concat(reply.Tokens));
        Assert.Equal(reason, reply.StopReason);
        Assert.Equal(stopSequence, reply.StopSequence);
        Assert.True(reply.InputTokens > 0);
        Assert.Equal(Math.Max(1, reply.Tokens.Count), reply.OutputTokens);
    }
}
