using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>Cost arithmetic, table-driven: every kind of token at its own price, in exact micro-units.</summary>
public sealed class CostArithmeticTests
{
    /// <summary>Input 3, output 15, 5-minute write 3.75, 1-hour write 6, read 0.30 per million tokens (Sonnet-like).</summary>
    private static readonly ModelPrice Sonnet = new(3m, 15m, 3.75m, 6m, 0.30m);

    public static TheoryData<string, UsageRecord, long> Records => new()
    {
        { "input only", Record(input: 1_000_000), 3_000_000 },
        { "output only", Record(output: 1_000_000), 15_000_000 },
        { "one token of each plain kind", Record(input: 1, output: 1), 18 },
        { "cache write without a split is a 5-minute write", Record(cacheCreation: 1000), 3_750 },
        { "cache write split 5m / 1h", Record(cacheCreation: 1000, write5m: 600, write1h: 400), (600 * 3.75m + 400 * 6).Micros() },
        { "a split short of the total puts the rest on the 5-minute price", Record(cacheCreation: 1000, write1h: 400), (600 * 3.75m + 400 * 6).Micros() },
        { "only a 1-hour split", Record(cacheCreation: 400, write5m: 0, write1h: 400), 2_400 },
        { "cache read", Record(cacheRead: 10_000), 3_000 },
        { "a cache read too small for a micro-unit rounds to nothing", Record(cacheRead: 1), 0 },
        { "two cache-read tokens round half away from zero", Record(cacheRead: 2), 1 },
        { "every kind at once (text.json)", Record(input: 25, output: 15, cacheCreation: 100, write5m: 60, write1h: 40, cacheRead: 2000),
            (25 * 3 + 15 * 15 + 60 * 3.75m + 40 * 6 + 2000 * 0.30m).Micros() },
        { "truncated stream: tokens so far", Record(input: 25, output: 3, state: UsageState.Truncated), 25 * 3 + 3 * 15 },
        { "cancelled: estimated tokens cost the same", Record(input: 25, output: 7, state: UsageState.Cancelled, estimated: true), 25 * 3 + 7 * 15 },
        { "refused before the upstream: nothing", Record(state: UsageState.Failed), 0 },
    };

    [Theory]
    [MemberData(nameof(Records))]
    public void CostMicros_IsTheSumOfEveryKindAtItsPrice(string because, UsageRecord record, long expectedMicros)
    {
        // Act
        var cost = Sonnet.CostMicros(BillableTokens.From(record));

        // Assert
        Assert.True(expectedMicros == cost, $"{because}: expected {expectedMicros}, got {cost}");
    }

    [Theory]
    [InlineData(1000, 200, false, 1000 * 3 + 200 * 15)]
    [InlineData(1000, 200, true, 1000 * 6 + 200 * 15)]
    [InlineData(0, 1, false, 15)]
    public void WorstCaseMicros_IsMaxTokensAtTheOutputPrice_PlusTheInputAtItsDearestPossiblePrice(long input, long maxTokens, bool cache, long expected)
    {
        // Act
        var worst = Sonnet.WorstCaseMicros(input, maxTokens, cache);

        // Assert
        Assert.Equal(expected, worst);
    }

    [Fact]
    public void WorstCaseMicros_RoundsUp_SoItNeverUnderstatesTheCost()
    {
        // Arrange: 0.30 per million is 0.3 micro-units per token.
        var cheap = new ModelPrice(0.30m, 0.30m, 0.30m, 0.30m, 0.30m);

        // Act
        var worst = cheap.WorstCaseMicros(1, 0, mayWriteCache: false);

        // Assert
        Assert.Equal(1, worst);
        Assert.True(worst >= cheap.CostMicros(new BillableTokens(1, 0, 0, 0, 0)));
    }

    [Fact]
    public void BillableTokens_RateLimitedInput_CountsWritesNotReads()
    {
        // Act
        var tokens = BillableTokens.From(Record(input: 10, cacheCreation: 100, write1h: 30, cacheRead: 1000));

        // Assert
        Assert.Equal(new BillableTokens(10, 0, 70, 30, 1000), tokens);
        Assert.Equal(110, tokens.RateLimitedInput);
    }

    [Theory]
    [InlineData(0.0000005, 1)]
    [InlineData(0.0000004, 0)]
    [InlineData(12.3456785, 12_345_679)]
    [InlineData(-0.0000005, -1)]
    public void Money_ToMicros_RoundsHalfAwayFromZero(double amount, long expected)
    {
        // Act
        var micros = Money.ToMicros((decimal)amount);

        // Assert
        Assert.Equal(expected, micros);
        Assert.Equal(expected, Money.ToMicros(Money.FromMicros(expected)));
    }

    private static UsageRecord Record(
        long input = 0, long output = 0, long cacheCreation = 0, long? write5m = null, long? write1h = null, long cacheRead = 0,
        UsageState state = UsageState.Complete, bool estimated = false) => new()
    {
        RequestId = "req_test",
        KeyId = "key_0000000000000000",
        Endpoint = "messages",
        StartedAt = DateTimeOffset.UnixEpoch,
        Model = "claude-sonnet",
        State = state,
        InputTokens = input,
        OutputTokens = output,
        CacheCreationInputTokens = cacheCreation,
        CacheCreation5mInputTokens = write5m,
        CacheCreation1hInputTokens = write1h,
        CacheReadInputTokens = cacheRead,
        Estimated = estimated,
    };
}

internal static class MicroUnits
{
    /// <summary>An exact micro-unit amount (tokens times price per million), rounded as a cost is.</summary>
    public static long Micros(this decimal exact) => Money.RoundMicros(exact);
}
