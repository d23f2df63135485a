namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>
/// The per-minute limits count in UTC minutes (docs/limits-and-prices.md#limits-of-a-key): a test whose calls must share one
/// window starts them early enough in a minute.
/// </summary>
public static class RateWindow
{
    /// <summary>Starts a test's calls early enough in a UTC minute that they all fall in one rate window.</summary>
    public static async Task AwayFromTheMinutesEndAsync()
    {
        var second = DateTimeOffset.UtcNow.Second;
        if (second >= 45)
        {
            await Task.Delay(TimeSpan.FromSeconds(61 - second));
        }
    }
}
