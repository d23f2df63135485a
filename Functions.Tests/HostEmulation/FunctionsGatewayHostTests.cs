using System.Diagnostics;
using System.Net;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>The emulated host itself: the real worker starts, loads every function, and HTTP goes through the host's path.</summary>
public sealed class FunctionsGatewayHostTests
{
    [Fact]
    public async Task StartAsync_LoadsEveryFunction_WithTheHostJsonRoutes()
    {
        // Arrange / Act
        var started = Stopwatch.StartNew();
        await using var host = await FunctionsGatewayHost.StartAsync(new Dictionary<string, string?>());
        var startup = started.Elapsed;

        // Assert: literal routes come before the catch-all, whatever the function names.
        Assert.Equal(
        [
            "GET,POST /manage/keys -> Keys",
            "GET /manage/usage -> Usage",
            "POST /v1/messages -> Messages",
            "DELETE,GET,PATCH /manage/keys/{id} -> Key",
            "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT /{*path} -> Fallback",
        ], host.Routes);
        Assert.Contains(WorkerChannel.HttpUriCapability, host.WorkerCapabilities.Keys);
        Assert.True(startup < TimeSpan.FromSeconds(30), $"start-up took {startup}");
    }

    [Fact]
    public async Task FrontDoor_ForwardsToTheWorker_AndReportsTheInvocation()
    {
        // Arrange
        await using var host = await FunctionsGatewayHost.StartAsync(new Dictionary<string, string?>());
        using var client = new HttpClient { BaseAddress = host.BaseAddress };

        // Act
        using var response = await client.GetAsync("/");

        // Assert
        Assert.True(response.StatusCode == HttpStatusCode.OK, host.CapturedLogs);
        var report = Assert.Single(host.Invocations);
        Assert.Equal("Fallback", report.FunctionName);
        Assert.Equal(InvocationStatus.Success, report.Status);
        Assert.Equal(200, report.HttpStatusCode);
    }
}
