using Qhaigc.Functions.Governance;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>The <c>limits</c> object of a key: every field, and a clear message for every bad one.</summary>
public sealed class KeyLimitsTests
{
    [Fact]
    public void Parse_ReadsEveryLimit()
    {
        // Act
        var limits = KeyLimits.Parse("""
            {"requestsPerMinute":60,"tokensPerMinute":100000,"inputTokensPerMinute":80000,"outputTokensPerMinute":20000,
             "concurrentStreams":4,"spendCap":25.5,"spendPeriod":"lifetime"}
            """, out var error);

        // Assert
        Assert.Null(error);
        Assert.Equal(new KeyLimits
        {
            RequestsPerMinute = 60,
            TokensPerMinute = 100_000,
            InputTokensPerMinute = 80_000,
            OutputTokensPerMinute = 20_000,
            ConcurrentStreams = 4,
            SpendCapMicros = 25_500_000,
            SpendPeriod = SpendPeriod.Lifetime,
        }, limits);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("""{"spendPeriod":"month"}""")]
    [InlineData("""{"requestsPerMinute":null}""")]
    public void Parse_NoLimits_IsTheFastPath(string? json)
    {
        // Act
        var limits = KeyLimits.Parse(json, out var error);

        // Assert
        Assert.Null(error);
        Assert.True(limits!.IsEmpty);
    }

    [Theory]
    [InlineData("""{"requestsPerMinute":0}""", "limits.requestsPerMinute: Input should be an integer from 1")]
    [InlineData("""{"requestsPerMinute":1.5}""", "limits.requestsPerMinute: Input should be an integer from 1")]
    [InlineData("""{"tokensPerMinute":"100"}""", "limits.tokensPerMinute: Input should be an integer from 1")]
    [InlineData("""{"concurrentStreams":-1}""", "limits.concurrentStreams: Input should be an integer from 1")]
    [InlineData("""{"spendCap":-1}""", "limits.spendCap: Input should be a number from 0")]
    [InlineData("""{"spendCap":0.0000001}""", "limits.spendCap: Input should be a number from 0")]
    [InlineData("""{"spendPeriod":"week"}""", "limits.spendPeriod: Input should be 'month' or 'lifetime'")]
    [InlineData("""{"rpm":10}""", "limits.rpm: unknown limit")]
    [InlineData("""[1]""", "limits: Input should be a valid dictionary")]
    [InlineData("""{"requestsPerMinute":""", "limits: not valid JSON")]
    public void Parse_BadLimits_SayWhatIsWrong(string json, string expected)
    {
        // Act
        var limits = KeyLimits.Parse(json, out var error);

        // Assert
        Assert.Null(limits);
        Assert.StartsWith(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ZeroSpendCap_IsAllowed()
    {
        // Act: a prepaid key with nothing left.
        var limits = KeyLimits.Parse("""{"spendCap":0,"spendPeriod":"lifetime"}""", out _);

        // Assert
        Assert.Equal(0, limits!.SpendCapMicros);
    }
}
