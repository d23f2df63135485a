using System.Globalization;
using System.Text.Json;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Infra;

/// <summary>The production settings in <c>host.json</c> (docs/deploy.md#hostjson-in-production).</summary>
public sealed class HostJsonTests
{
    private static readonly Lazy<JsonElement> HostJson = new(static () =>
    {
        using var document = JsonDocument.Parse(File.ReadAllText(RepositoryPaths.Combine("host.json")));
        return document.RootElement.Clone();
    });

    private static JsonElement Http => HostJson.Value.GetProperty("extensions").GetProperty("http");

    private static JsonElement Logging => HostJson.Value.GetProperty("logging");

    [Fact]
    public void HostJson_KeepsRoutesAtTheRoot()
    {
        // Assert: paths are Anthropic's own (/v1/messages), not /api/v1/messages.
        Assert.Equal("2.0", HostJson.Value.GetProperty("version").GetString());
        Assert.Equal("", Http.GetProperty("routePrefix").GetString());
    }

    [Fact]
    public void HostJson_PutsTheHostInOpenTelemetryMode()
    {
        // Assert: the host's own telemetry follows OpenTelemetry too, so its spans and the worker's share a trace
        // (docs/telemetry.md).
        Assert.Equal("OpenTelemetry", HostJson.Value.GetProperty("telemetryMode").GetString());
    }

    [Fact]
    public void HostJson_LetsLongStreamsFinish_ButNotForever()
    {
        // Arrange
        var timeout = TimeSpan.Parse(HostJson.Value.GetProperty("functionTimeout").GetString()!, CultureInfo.InvariantCulture);

        // Assert: a long extended-thinking stream can run for tens of minutes; a stuck call must still end.
        Assert.InRange(timeout, TimeSpan.FromMinutes(30), TimeSpan.FromHours(2));
    }

    [Fact]
    public void HostJson_CapsRequestsPerInstance_WithoutQueueingThem()
    {
        // Arrange
        var concurrent = Http.GetProperty("maxConcurrentRequests").GetInt32();
        var outstanding = Http.GetProperty("maxOutstandingRequests").GetInt32();

        // Assert: a hard, finite cap per instance; outstanding equal to concurrent, so a request over the cap gets 429
        // at once (the Anthropic SDKs retry it) instead of waiting behind streams that can run for many minutes; the
        // host still sheds load when an instance runs short of resources.
        Assert.InRange(concurrent, 1, 1000);
        Assert.Equal(concurrent, outstanding);
        Assert.True(Http.GetProperty("dynamicThrottlesEnabled").GetBoolean());
    }

    [Fact]
    public void HostJson_LogsEveryRequestButNoPerCallTraces()
    {
        // Arrange
        var levels = Logging.GetProperty("logLevel");
        var sampling = Logging.GetProperty("applicationInsights").GetProperty("samplingSettings");

        // Assert: one request row per call, warnings and errors from everything, and requests and exceptions never
        // sampled away.
        Assert.Equal("Warning", levels.GetProperty("default").GetString());
        Assert.Equal("Information", levels.GetProperty("Host.Results").GetString());
        Assert.Equal("Warning", levels.GetProperty("Function").GetString());
        Assert.True(sampling.GetProperty("isEnabled").GetBoolean());
        Assert.Equal(["Exception", "Request"], sampling.GetProperty("excludedTypes").GetString()!.Split(';').Order(StringComparer.Ordinal));
    }
}
