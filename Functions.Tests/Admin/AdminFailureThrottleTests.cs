using Microsoft.Extensions.Time.Testing;
using Qhaigc.Functions.Admin;

namespace Qhaigc.Functions.Tests.Admin;

public sealed class AdminFailureThrottleTests
{
    [Fact]
    public void Blocked_NeverBlocksAClientWithoutFailures_WhenAFloodOfAddressesFilledTheTable()
    {
        // Arrange: more failing addresses than the throttle tracks, each failing often enough to be blocked.
        var throttle = new AdminFailureThrottle(new FakeTimeProvider(DateTimeOffset.UtcNow));
        for (var i = 0; i < AdminFailureThrottle.MaxClients + 50; i++)
        {
            for (var f = 0; f < AdminFailureThrottle.MaxFailures; f++)
            {
                throttle.Failed("10.0." + i);
            }
        }

        // Act: the operator, from an address the flood did not use.
        var operatorWait = throttle.Blocked("192.0.2.1");
        var attackerWait = throttle.Blocked("10.0.1");

        // Assert
        Assert.Null(operatorWait);
        Assert.NotNull(attackerWait);
    }
}
