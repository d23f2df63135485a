using System.Text.Json;
using System.Text.RegularExpressions;
using Qhaigc.Functions.Telemetry;

namespace Qhaigc.Functions.Tests.Infra;

/// <summary>
/// The workbook and the alert rules (docs/telemetry.md): deployed against the template's Application Insights, and
/// their queries name only metrics and attributes the gateway really emits (<see cref="TelemetryNames"/>).
/// </summary>
[Collection(InfraCollectionDefinition.Name)]
public sealed partial class MainTemplateTelemetryTests(InfraDeployment infra)
{
    [Theory]
    [InlineData("main.bicepparam")]
    [InlineData("scenario.bicepparam")]
    public void Workbook_AndAlerts_NameOnlyMetricsAndAttributesTheGatewayEmits(string parameters)
    {
        // Arrange
        var snapshot = infra.Snapshots.Single(s => s.Name == parameters);
        var queries = WorkbookQueries(snapshot).Concat(AlertQueries(snapshot).Select(static a => a.Query)).ToList();

        // Act: every metric name (name == "…", name in ("…", …)) and every attribute (customDimensions["…"]).
        var metrics = queries.SelectMany(static q => MetricName().Matches(q).Select(static m => m.Groups["name"].Value)
            .Concat(MetricList().Matches(q).SelectMany(static m => Quoted().Matches(m.Groups["names"].Value).Select(static n => n.Groups["value"].Value))))
            .ToHashSet(StringComparer.Ordinal);
        var attributes = queries.SelectMany(static q => Dimension().Matches(q).Select(static m => m.Groups["name"].Value)).ToHashSet(StringComparer.Ordinal);

        // Assert: nothing unknown, and the queries do read what the workbook and the alerts promise.
        Assert.Empty(metrics.Except(TelemetryNames.Metrics.All));
        Assert.Empty(attributes.Except(TelemetryNames.Attributes.All));
        Assert.Superset(
            new HashSet<string>
            {
                TelemetryNames.Metrics.RequestDuration, TelemetryNames.Metrics.TokenUsage, TelemetryNames.Metrics.Cost, TelemetryNames.Metrics.Refusals,
                TelemetryNames.Metrics.UpstreamAttempts, TelemetryNames.Metrics.UpstreamFailures, TelemetryNames.Metrics.UpstreamResting,
                TelemetryNames.Metrics.UsageQueueLength, TelemetryNames.Metrics.UsageRecordsLost, TelemetryNames.Metrics.SettlementsLost,
            },
            metrics);
        Assert.Contains(TelemetryNames.Attributes.TimeToFirstToken, attributes);
    }

    [Fact]
    public void Workbook_ShowsEveryTile_OverTheTemplatesApplicationInsights()
    {
        // Arrange
        var snapshot = infra.Example;
        var workbook = snapshot.Resource("Microsoft.Insights/workbooks");
        var insights = snapshot.Resource("Microsoft.Insights/components");

        // Act
        var titles = WorkbookItems(snapshot).Where(static i => i.GetProperty("type").GetInt32() == 3)
            .Select(static i => i.GetProperty("content").GetProperty("title").GetString()!).ToList();

        // Assert: calls, errors, p50/p95 time to first token, tokens and cost by model, refusals, upstream health, the
        // usage writer; all read from the template's own component.
        Assert.Equal(DeploymentSnapshot.Id(insights), DeploymentSnapshot.Properties(workbook).GetProperty("sourceId").GetString());
        Assert.Equal("shared", workbook.GetProperty("kind").GetString());
        Assert.Collection(titles,
            static t => Assert.Contains("Calls", t, StringComparison.Ordinal),
            static t => Assert.Contains("Errors", t, StringComparison.Ordinal),
            static t => Assert.Contains("p50 and p95", t, StringComparison.Ordinal),
            static t => Assert.Contains("Tokens by model", t, StringComparison.Ordinal),
            static t => Assert.Contains("Cost by model", t, StringComparison.Ordinal),
            static t => Assert.Contains("Refusals by reason", t, StringComparison.Ordinal),
            static t => Assert.Contains("Upstream health", t, StringComparison.Ordinal),
            static t => Assert.Contains("Usage writer", t, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("main.bicepparam", null, 0.05, "PT10M")]
    [InlineData("scenario.bicepparam", "operator@contoso.example", 0.02, "PT15M")]
    public void Alerts_WatchLossesErrorsRestsAndTheWriter_AndMailTheActionGroup(string parameters, string? email, double errorRate, string restingWindow)
    {
        // Arrange
        var snapshot = infra.Snapshots.Single(s => s.Name == parameters);
        var group = snapshot.Resource("Microsoft.Insights/actionGroups");
        var insights = snapshot.Resource("Microsoft.Insights/components");

        // Act
        var alerts = AlertQueries(snapshot).ToDictionary(static a => a.Name[(a.Name.IndexOf('-', 7) + 1)..], StringComparer.Ordinal);
        var receivers = DeploymentSnapshot.Properties(group).GetProperty("emailReceivers").EnumerateArray()
            .Select(static r => r.GetProperty("emailAddress").GetString()).ToList();

        // Assert: the five rules, each on the component and mailing the one action group.
        Assert.Equal(["server-error-rate", "settlements-lost", "upstream-resting", "usage-records-lost", "usage-writer-behind"], alerts.Keys.Order(StringComparer.Ordinal));
        foreach (var alert in alerts.Values)
        {
            Assert.Equal([DeploymentSnapshot.Id(insights)], alert.Properties.GetProperty("scopes").EnumerateArray().Select(static s => s.GetString()));
            Assert.Equal([DeploymentSnapshot.Id(group)], alert.Properties.GetProperty("actions").GetProperty("actionGroups").EnumerateArray().Select(static s => s.GetString()));
        }

        Assert.Equal(email is null ? [] : [email], receivers);
        Assert.Equal(errorRate, Criterion(alerts["server-error-rate"]).GetProperty("threshold").GetDouble());
        Assert.Equal(restingWindow, alerts["upstream-resting"].Properties.GetProperty("windowSize").GetString());
        Assert.Contains(TelemetryNames.Metrics.UsageRecordsLost, alerts["usage-records-lost"].Query, StringComparison.Ordinal);
        Assert.Contains(TelemetryNames.Metrics.SettlementsLost, alerts["settlements-lost"].Query, StringComparison.Ordinal);
        Assert.Contains(TelemetryNames.Metrics.UpstreamResting, alerts["upstream-resting"].Query, StringComparison.Ordinal);
        Assert.Contains(TelemetryNames.Metrics.UsageQueueLength, alerts["usage-writer-behind"].Query, StringComparison.Ordinal);
    }

    private static IEnumerable<JsonElement> WorkbookItems(DeploymentSnapshot snapshot)
    {
        var serialized = DeploymentSnapshot.Properties(snapshot.Resource("Microsoft.Insights/workbooks")).GetProperty("serializedData").GetString()!;
        using var document = JsonDocument.Parse(serialized);
        return [.. document.RootElement.GetProperty("items").EnumerateArray().Select(static i => i.Clone())];
    }

    private static IEnumerable<string> WorkbookQueries(DeploymentSnapshot snapshot) =>
        WorkbookItems(snapshot).Where(static i => i.GetProperty("content").TryGetProperty("query", out _))
            .Select(static i => i.GetProperty("content").GetProperty("query").GetString()!);

    private static IEnumerable<(string Name, string Query, JsonElement Properties)> AlertQueries(DeploymentSnapshot snapshot) =>
        snapshot.OfType("Microsoft.Insights/scheduledQueryRules").Select(static r =>
        {
            var properties = DeploymentSnapshot.Properties(r);
            return (DeploymentSnapshot.ResourceName(r), Criterion(properties).GetProperty("query").GetString()!, properties);
        });

    private static JsonElement Criterion((string Name, string Query, JsonElement Properties) alert) => Criterion(alert.Properties);

    private static JsonElement Criterion(JsonElement properties) => properties.GetProperty("criteria").GetProperty("allOf")[0];

    [GeneratedRegex("""name\s*==\s*"(?<name>[^"]+)"|name\s*==\s*'(?<name>[^']+)'""")]
    private static partial Regex MetricName();

    [GeneratedRegex("""name\s+in\s*\((?<names>[^)]*)\)""")]
    private static partial Regex MetricList();

    [GeneratedRegex("""["'](?<value>[^"']+)["']""")]
    private static partial Regex Quoted();

    [GeneratedRegex("""customDimensions\s*\[\s*["'](?<name>[^"']+)["']\s*\]|customDimensions\.(?<name>[A-Za-z_][\w.]*)""")]
    private static partial Regex Dimension();
}
