using Qhaigc.Functions.Batches;

namespace Qhaigc.Functions.Tests.Batches;

/// <summary>The settlement schedule: the Functions timer's six-field NCRONTAB, run alike by the standalone mode.</summary>
public sealed class SettleScheduleTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 10, 20, 30, TimeSpan.Zero);

    [Theory]
    [InlineData("0 * * * * *", "2026-12-07T10:21:00Z")]
    [InlineData("*/10 * * * * *", "2026-12-07T10:20:40Z")]
    [InlineData("0 */5 * * * *", "2026-12-07T10:25:00Z")]
    [InlineData("0 0 3 * * *", "2026-12-08T03:00:00Z")]
    [InlineData("0 30 9 * * 1-5", "2026-12-08T09:30:00Z")]
    [InlineData("15,45 20 10 7 12 *", "2026-12-07T10:20:45Z")]
    [InlineData("0 0 0 1 1 *", "2027-01-01T00:00:00Z")]
    public void Next_IsTheFirstTimeTheScheduleNames_AfterTheGivenOne(string expression, string expected)
    {
        // Arrange
        var schedule = SettleSchedule.Parse(expression, out var error);

        // Act
        var next = schedule!.Next(At);

        // Assert
        Assert.Null(error);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), next);
    }

    [Theory]
    [InlineData("* * * * *")]
    [InlineData("0 61 * * * *")]
    [InlineData("0 * * * * MON")]
    [InlineData("0 */0 * * * *")]
    [InlineData("")]
    public void Parse_RefusesWhatItCannotRun_WithAReason(string expression)
    {
        // Arrange & Act
        var schedule = SettleSchedule.Parse(expression, out var error);

        // Assert
        Assert.Null(schedule);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Validator_StopsTheHost_ForABadScheduleAShortHoldOrAGraceBeyondTheHold()
    {
        // Arrange
        var validator = new BatchSettlementOptionsValidator();

        // Act
        var good = validator.Validate(null, new BatchSettlementOptions());
        var bad = validator.Validate(null, new BatchSettlementOptions { SettleSchedule = "every minute", HoldDuration = TimeSpan.FromHours(12), GoneAfter = TimeSpan.FromHours(1) });
        var graceTooLong = validator.Validate(null, new BatchSettlementOptions { GoneAfter = TimeSpan.FromDays(29) });

        // Assert
        Assert.True(good.Succeeded);
        Assert.Equal(2, bad.Failures!.Count());
        Assert.Contains(bad.Failures!, static f => f.StartsWith("Gateway:Batches:SettleSchedule", StringComparison.Ordinal));
        Assert.Contains(bad.Failures!, static f => f.StartsWith("Gateway:Batches:HoldDuration", StringComparison.Ordinal));
        Assert.StartsWith("Gateway:Batches:GoneAfter", Assert.Single(graceTooLong.Failures!), StringComparison.Ordinal);
    }
}
