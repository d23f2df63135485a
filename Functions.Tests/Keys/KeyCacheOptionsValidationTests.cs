using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Tests.Keys;

/// <summary><c>Gateway:Keys:*</c> is checked at start-up (docs/configuration.md#key-cache).</summary>
public sealed class KeyCacheOptionsValidationTests
{
    [Fact]
    public void Validate_Succeeds_ForTheDefaults()
    {
        // Act
        var result = new GatewayOptionsValidator().Validate(null, new GatewayOptions());

        // Assert
        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Theory]
    [InlineData("CacheDuration")]
    [InlineData("LookupTimeout")]
    [InlineData("NegativeCacheDuration")]
    [InlineData("StaleGracePeriod")]
    [InlineData("MaxEntries")]
    [InlineData("MaxUnknownEntries")]
    public void Validate_Fails_WhenAKeyCacheSettingIsOutOfRange(string setting)
    {
        // Arrange
        var keys = new KeyCacheOptions();
        switch (setting)
        {
            case "CacheDuration": keys.CacheDuration = TimeSpan.Zero; break;
            case "LookupTimeout": keys.LookupTimeout = TimeSpan.Zero; break;
            case "NegativeCacheDuration": keys.NegativeCacheDuration = TimeSpan.FromSeconds(-1); break;
            case "StaleGracePeriod": keys.StaleGracePeriod = TimeSpan.FromSeconds(-1); break;
            case "MaxEntries": keys.MaxEntries = 0; break;
            default: keys.MaxUnknownEntries = 0; break;
        }

        // Act
        var result = new GatewayOptionsValidator().Validate(null, new GatewayOptions { Keys = keys });

        // Assert
        Assert.True(result.Failed);
        Assert.Contains("Gateway:Keys:", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains(setting, result.FailureMessage, StringComparison.Ordinal);
    }
}
