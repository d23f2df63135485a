using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Governance;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>The rate-limit headers of both formats (docs/limits-and-prices.md), and the gateway's own spend and stream headers.</summary>
public sealed class RateLimitHeadersTests
{
    private static readonly DateTimeOffset Window = new(2026, 11, 5, 10, 20, 0, TimeSpan.Zero);

    [Fact]
    public void Write_Anthropic_EveryConfiguredLimit_WithAnRfc3339Reset()
    {
        // Arrange
        var headers = new HeaderDictionary();
        var limits = new KeyLimits { RequestsPerMinute = 10, TokensPerMinute = 5000, InputTokensPerMinute = 4000, OutputTokensPerMinute = 2000 };
        var status = new RateLimitStatus(limits, new LimitUsage(3, 1200, 300, 0, 0, 0), Window, Window.AddSeconds(23), Stream: false);

        // Act
        RateLimitHeaders.Write(headers, RateLimitHeaderFormat.Anthropic, status);

        // Assert
        Assert.Equal("10", headers["anthropic-ratelimit-requests-limit"]);
        Assert.Equal("7", headers["anthropic-ratelimit-requests-remaining"]);
        Assert.Equal("2026-11-05T10:21:00Z", headers["anthropic-ratelimit-requests-reset"]);
        Assert.Equal("3500", headers["anthropic-ratelimit-tokens-remaining"]);
        Assert.Equal("2800", headers["anthropic-ratelimit-input-tokens-remaining"]);
        Assert.Equal("1700", headers["anthropic-ratelimit-output-tokens-remaining"]);
        Assert.Equal("2026-11-05T10:21:00Z", headers["anthropic-ratelimit-output-tokens-reset"]);
        Assert.False(headers.ContainsKey("x-ratelimit-limit-requests"));
        Assert.False(headers.ContainsKey(RateLimitHeaders.SpendLimit));
    }

    [Fact]
    public void Write_OpenAi_RequestsAndTokens_WithADurationReset()
    {
        // Arrange
        var headers = new HeaderDictionary();
        var limits = new KeyLimits { RequestsPerMinute = 10, TokensPerMinute = 5000, InputTokensPerMinute = 4000 };
        var status = new RateLimitStatus(limits, new LimitUsage(12, 6000, 0, 0, 0, 0), Window, Window.AddSeconds(22.5), Stream: false);

        // Act
        RateLimitHeaders.Write(headers, RateLimitHeaderFormat.OpenAi, status);

        // Assert
        Assert.Equal("10", headers["x-ratelimit-limit-requests"]);
        Assert.Equal("0", headers["x-ratelimit-remaining-requests"]);
        Assert.Equal("38s", headers["x-ratelimit-reset-requests"]);
        Assert.Equal("5000", headers["x-ratelimit-limit-tokens"]);
        Assert.Equal("0", headers["x-ratelimit-remaining-tokens"]);
        Assert.False(headers.ContainsKey("anthropic-ratelimit-requests-limit"));
    }

    [Fact]
    public void Write_SpendAndStreams_InTheGatewaysOwnHeaders()
    {
        // Arrange
        var headers = new HeaderDictionary();
        var limits = new KeyLimits { SpendCapMicros = 10_000_000, ConcurrentStreams = 3 };
        var status = new RateLimitStatus(limits, new LimitUsage(0, 0, 0, 2_500_000, 1_250_001, 1), Window, Window, Stream: true);

        // Act
        RateLimitHeaders.Write(headers, RateLimitHeaderFormat.Anthropic, status);

        // Assert
        Assert.Equal("10", headers[RateLimitHeaders.SpendLimit]);
        Assert.Equal("6.249999", headers[RateLimitHeaders.SpendRemaining]);
        Assert.Equal("2026-12-01T00:00:00Z", headers[RateLimitHeaders.SpendReset]);
        Assert.Equal("3", headers[RateLimitHeaders.StreamsLimit]);
        Assert.Equal("2", headers[RateLimitHeaders.StreamsRemaining]);
    }

    [Theory]
    [InlineData(0.4, "400ms")]
    [InlineData(1, "1s")]
    [InlineData(37.2, "38s")]
    [InlineData(60, "1m0s")]
    [InlineData(360, "6m0s")]
    public void Duration_IsOpenAisForm(double seconds, string expected) =>
        Assert.Equal(expected, RateLimitHeaders.Duration(TimeSpan.FromSeconds(seconds)));
}
