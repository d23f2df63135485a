using Microsoft.Extensions.Time.Testing;
using Qhaigc.Functions.Governance;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>The admission rule alone: fixed minute windows, the clamp for calls bigger than a window, the order of refusals.</summary>
public sealed class AdmissionPolicyTests
{
    [Theory]
    [InlineData("2026-11-05T10:20:00.000Z", "2026-11-05T10:20:00Z")]
    [InlineData("2026-11-05T10:20:59.999Z", "2026-11-05T10:20:00Z")]
    [InlineData("2026-11-05T10:21:00.000Z", "2026-11-05T10:21:00Z")]
    [InlineData("2026-11-05T12:20:30+02:00", "2026-11-05T10:20:00Z")]
    public void WindowStart_IsTheUtcMinute_WhateverTheOffset(string now, string expected)
    {
        // Act
        var start = AdmissionPolicy.WindowStart(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture));

        // Assert
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), start);
    }

    [Fact]
    public void WindowStart_FollowsTheClock_AcrossAMinuteBoundary()
    {
        // Arrange
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 5, 10, 20, 59, TimeSpan.Zero));
        var first = AdmissionPolicy.WindowStart(time.GetUtcNow());

        // Act
        time.Advance(TimeSpan.FromSeconds(1));
        var second = AdmissionPolicy.WindowStart(time.GetUtcNow());

        // Assert
        Assert.Equal(TimeSpan.FromMinutes(1), second - first);
    }

    [Theory]
    //            tpm   itpm  otpm  estIn estOut  chargeIn chargeOut
    [InlineData(null, null, null, 500, 1000, 0, 0)]
    [InlineData(10_000L, null, null, 500, 1000, 500, 1000)]
    [InlineData(1_000L, null, null, 500, 1000, 500, 500)]
    [InlineData(400L, null, null, 500, 1000, 400, 0)]
    [InlineData(null, 300L, null, 500, 1000, 300, 1000)]
    [InlineData(null, null, 200L, 500, 1000, 500, 200)]
    [InlineData(600L, 300L, 200L, 500, 1000, 300, 200)]
    public void Charge_IsTheEstimate_ClampedToEachLimit(long? tpm, long? itpm, long? otpm, long input, long output, long expectedIn, long expectedOut)
    {
        // Arrange
        var limits = new KeyLimits { TokensPerMinute = tpm, InputTokensPerMinute = itpm, OutputTokensPerMinute = otpm };

        // Act
        var charge = AdmissionPolicy.Charge(limits, new CallEstimate(input, output, null, false));

        // Assert
        Assert.Equal(new WindowCharge(expectedIn, expectedOut), charge);
    }

    [Fact]
    public void Check_AdmitsACallBiggerThanTheWindow_OnlyIntoAnEmptyWindow()
    {
        // Arrange: one call estimates more tokens than the whole minute allows.
        var limits = new KeyLimits { TokensPerMinute = 1000 };
        var estimate = new CallEstimate(800, 4096, null, false);
        var charge = AdmissionPolicy.Charge(limits, estimate);

        // Act
        var empty = AdmissionPolicy.Check(limits, default, estimate, charge);
        var used = AdmissionPolicy.Check(limits, new LimitUsage(1, 1, 0, 0, 0, 0), estimate, charge);

        // Assert
        Assert.Equal(LimitKind.None, empty);
        Assert.Equal(LimitKind.Tokens, used);
    }

    public static TheoryData<string, KeyLimits, LimitUsage, CallEstimate, LimitKind> Refusals => new()
    {
        { "room everywhere", Everything, new LimitUsage(4, 100, 100, 500, 0, 1), Call, LimitKind.None },
        { "spend: settled + reserved + worst case over the cap", Everything, new LimitUsage(0, 0, 0, 601, 200, 0), Call, LimitKind.Spend },
        { "spend: exactly the cap fits", Everything, new LimitUsage(0, 0, 0, 600, 200, 0), Call, LimitKind.None },
        { "spend before requests (waiting does not help)", Everything, new LimitUsage(5, 0, 0, 1000, 0, 0), Call, LimitKind.Spend },
        { "requests", Everything, new LimitUsage(5, 0, 0, 0, 0, 0), Call, LimitKind.Requests },
        { "tokens", Everything, new LimitUsage(0, 800, 1000, 0, 0, 0), Call, LimitKind.Tokens },
        { "input tokens", Everything, new LimitUsage(0, 1500, 0, 0, 0, 0), Call, LimitKind.InputTokens },
        { "output tokens", Everything, new LimitUsage(0, 0, 800, 0, 0, 0), Call, LimitKind.OutputTokens },
        { "streams", Everything, new LimitUsage(0, 0, 0, 0, 0, 2), Call with { Stream = true }, LimitKind.Streams },
        { "streams do not limit calls that do not stream", Everything, new LimitUsage(0, 0, 0, 0, 0, 2), Call, LimitKind.None },
        { "an unpriced call is not held to the cap", Everything, new LimitUsage(0, 0, 0, 1000, 0, 0), Call with { WorstCostMicros = null }, LimitKind.None },
        { "a worst case near long.MaxValue does not wrap under the cap", Everything, new LimitUsage(0, 0, 0, 100, 100, 0), Call with { WorstCostMicros = long.MaxValue }, LimitKind.Spend },
        { "a negative worst case is refused", Everything, default, Call with { WorstCostMicros = -1 }, LimitKind.Spend },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Check_RefusesWithTheFirstLimitExceeded(string because, KeyLimits limits, LimitUsage usage, CallEstimate estimate, LimitKind expected)
    {
        // Act
        var refused = AdmissionPolicy.Check(limits, usage, estimate, AdmissionPolicy.Charge(limits, estimate));

        // Assert
        Assert.True(expected == refused, $"{because}: expected {expected}, got {refused}");
    }

    [Fact]
    public void Add_CountsTheRequestTokensReservationAndSlot()
    {
        // Arrange
        var estimate = Call with { Stream = true };

        // Act
        var after = AdmissionPolicy.Add(Everything, new LimitUsage(1, 10, 20, 30, 40, 1), estimate, AdmissionPolicy.Charge(Everything, estimate));

        // Assert
        Assert.Equal(new LimitUsage(2, 110, 220, 30, 240, 2), after);
    }

    private static KeyLimits Everything => new()
    {
        RequestsPerMinute = 5,
        TokensPerMinute = 2000,
        InputTokensPerMinute = 1500,
        OutputTokensPerMinute = 900,
        ConcurrentStreams = 2,
        SpendCapMicros = 1000,
    };

    private static CallEstimate Call => new(100, 200, 100 + 100, false);
}
