using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Tests.Upstreams;

public sealed class HeaderPolicyTests
{
    [Theory]
    [InlineData("anthropic-dangerous-direct-browser-access", true)]
    [InlineData("anthropic-workspace-id", true)]
    [InlineData("anthropic-version", false)]
    [InlineData("anthropic-beta", false)]
    [InlineData("x-api-key", false)]
    [InlineData("Authorization", false)]
    [InlineData("x-stainless-retry-count", false)]
    [InlineData("host", false)]
    [InlineData("connection", false)]
    [InlineData("transfer-encoding", false)]
    [InlineData("x-forwarded-for", false)]
    [InlineData("cookie", false)]
    public void ForwardsToAnthropic_AllowsOnlyAnthropicHeaders(string name, bool expected) =>
        Assert.Equal(expected, HeaderPolicy.ForwardsToAnthropic(name));

    [Fact]
    public void ExtraAnthropicHeaders_DropsHeadersTheClientNamesInConnection()
    {
        // Arrange: RFC 9110 §7.6.1: a header listed in Connection is hop-by-hop, whatever its name.
        var headers = new HeaderDictionary
        {
            ["Connection"] = "keep-alive, Anthropic-Hop",
            ["anthropic-hop"] = "not for the upstream",
            ["anthropic-workspace-id"] = "ws-1",
        };

        // Act
        var extra = HeaderPolicy.ExtraAnthropicHeaders(headers);

        // Assert
        Assert.Equal([new("anthropic-workspace-id", "ws-1")], extra);
    }

    [Fact]
    public void JoinBetas_JoinsRepeatedHeaders_AndFilterKeepsAllowed()
    {
        // Arrange
        var headers = new HeaderDictionary { ["anthropic-beta"] = new(["a-1, b-2", "c-3"]) };

        // Act
        var joined = HeaderPolicy.JoinBetas(headers);

        // Assert
        Assert.Equal("a-1,b-2,c-3", joined);
        Assert.Equal("a-1,c-3", HeaderPolicy.FilterBetas(joined, ["C-3", "a-1"]));
        Assert.Null(HeaderPolicy.FilterBetas(joined, ["zzz"]));
        Assert.Equal(joined, HeaderPolicy.FilterBetas(joined, null));
        Assert.Null(HeaderPolicy.JoinBetas(new HeaderDictionary()));
    }

    [Theory]
    [InlineData("anthropic-workspace-id, anthropic-beta", null)]
    [InlineData("", null)]
    [InlineData("anthropic-workspace-id, anthropic-version", "anthropic-version")]
    [InlineData("x-api-key", "x-api-key")]
    public void InvalidDrop_NamesAHeaderThatCannotBeDropped(string setting, string? expected)
    {
        // Act
        var invalid = HeaderPolicy.InvalidDrop(setting);

        // Assert: only anthropic-* headers are forwarded at all, and the upstream needs anthropic-version.
        Assert.Equal(expected, invalid);
    }
}
