using System.Globalization;
using System.Text.Json;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Infra;

/// <summary>
/// How many requests one instance takes: Flex Consumption's per-instance concurrency (a target: past it, the platform
/// adds instances) below the host's hard cap from <c>host.json</c>, which a parameter may replace (docs/deploy.md).
/// </summary>
[Collection(InfraCollectionDefinition.Name)]
public sealed class MainTemplateConcurrencyTests(InfraDeployment infra)
{
    private const string MaxConcurrentSetting = "AzureFunctionsJobHost__extensions__http__maxConcurrentRequests";
    private const string MaxOutstandingSetting = "AzureFunctionsJobHost__extensions__http__maxOutstandingRequests";

    [Fact]
    public void MainTemplate_DefaultsToAConcurrencyTargetWellBelowTheHostCap()
    {
        // Arrange
        var parameters = infra.Template.GetProperty("parameters");
        var target = parameters.GetProperty("httpPerInstanceConcurrency").GetProperty("defaultValue").GetInt32();
        var capParameter = parameters.GetProperty("httpMaxRequestsPerInstance").GetProperty("defaultValue").GetInt32();
        using var hostJson = JsonDocument.Parse(File.ReadAllText(RepositoryPaths.Combine("host.json")));
        var hostCap = hostJson.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("maxConcurrentRequests").GetInt32();

        // Assert: by default the platform scales out at the target and host.json's cap stands; the cap leaves room for
        // the requests that arrive while a new instance starts (at least twice the target).
        Assert.InRange(target, 1, 1000);
        Assert.Equal(0, capParameter);
        Assert.True(hostCap >= 2 * target, $"host.json caps an instance at {hostCap}, the template's target is {target}.");
        Assert.False(infra.Example.AppSettings.ContainsKey(MaxConcurrentSetting));
        Assert.False(infra.Example.AppSettings.ContainsKey(MaxOutstandingSetting));
    }

    [Fact]
    public void MainTemplate_ReplacesTheHostCap_WhenAParameterSetsOne()
    {
        // Arrange
        var settings = infra.Scenario.AppSettings;

        // Assert: app settings override host.json; both limits move together, so nothing is ever queued.
        Assert.Equal("150", settings[MaxConcurrentSetting]);
        Assert.Equal("150", settings[MaxOutstandingSetting]);
        Assert.Equal(150, int.Parse(settings[MaxConcurrentSetting], CultureInfo.InvariantCulture));
    }
}
