using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.WebConsole;

/// <summary>
/// The console over two weeks of a populated gateway: usage records of several keys, models and outcomes written
/// through the gateway's own usage path (priced, then written and aggregated as any call's record is), then the
/// overview and a key's page in the browser, saved as screenshots (the README's come from this run).
/// </summary>
[Collection(ConsoleTests.Name)]
public sealed class ConsoleScreenshotTests(ConsoleFixture fixture)
{
    private static readonly string[] Models = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"];

    [Fact]
    public async Task PopulatedGateway_ShowsEveryDayInTheCharts_AndScreenshotsAreSaved()
    {
        // Arrange: four keys and two weeks of their calls.
        var keys = new[]
        {
            (Name: "acme-production", Weight: 9, Body: """{"name":"acme-production","models":["claude-*"],"limits":{"requestsPerMinute":600,"tokensPerMinute":400000,"concurrentStreams":20,"spendCap":250,"maxFiles":200,"maxFileBytes":10737418240}}"""),
            (Name: "acme-staging", Weight: 3, Body: """{"name":"acme-staging","limits":{"requestsPerMinute":60}}"""),
            (Name: "research-notebooks", Weight: 5, Body: """{"name":"research-notebooks","limits":{"spendCap":120,"spendPeriod":"month"}}"""),
            (Name: "mobile-app", Weight: 4, Body: """{"name":"mobile-app"}"""),
        };
        var created = new List<(string Id, int Weight)>();
        foreach (var key in keys)
        {
            var (id, _) = await fixture.CreateKeyAsync(key.Body);
            created.Add((id, key.Weight));
        }

        var expected = Seed(created);
        foreach (var (id, count) in expected)
        {
            await WaitForRecordsAsync(id, count);
        }

        await using var session = await fixture.OpenAsync();
        var page = session.Page;
        await page.SetViewportSizeAsync(1440, 1000);
        await session.SignInAsync(GatewayTestEnvironment.AdminKey, operatorRole: true);

        // Act
        await page.GetByRole(AriaRole.Button, new() { Name = "30 days" }).ClickAsync();
        var overview = await session.WaitForChartAsync("calls", t => t.Values.Sum() >= expected.Values.Sum());
        var perDay = await page.Locator("canvas[data-chart='calls']").GetAttributeAsync("data-series");
        await page.Locator("canvas[data-chart='cost']").WaitForAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "console-overview.png") });
        var production = created[0].Id;
        await page.GotoAsync($"console#/keys/{production}");
        var keyCalls = await session.WaitForChartAsync("calls", t => t.Values.Sum() == expected[production]);
        await page.Locator(".statement tbody tr").First.WaitForAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "console-key.png") });
        await session.ScreenshotAsync("console-key-full");
        await page.GotoAsync("console#/calls");
        await page.Locator("tr[data-request-id]").Nth(49).WaitForAsync();
        var firstPage = await RequestIdsAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "Older →" }).ClickAsync();
        await page.Locator(".pager span", new() { HasText = "Page 2" }).WaitForAsync();
        var secondPage = await RequestIdsAsync(page);
        await session.ScreenshotAsync("console-calls");

        // Assert: every call counted, on more than one day.
        Assert.True(overview.Values.Sum() >= expected.Values.Sum());
        Assert.Equal(expected[production], keyCalls.Values.Sum());
        Assert.Equal(50, firstPage.Length);
        Assert.Equal(50, secondPage.Length);
        Assert.Empty(firstPage.Intersect(secondPage));
        Assert.True(perDay!.Split(',').Count(static v => v.Trim() is not "0" and not "[0" and not "0]") > 7, perDay);
        await session.AssertCleanAsync(GatewayTestEnvironment.AdminKey);
    }

    /// <summary>Submits each key's calls to the gateway's usage sink, the path every call's record takes; returns the count per key.</summary>
    private Dictionary<string, int> Seed(List<(string Id, int Weight)> keys)
    {
        var services = ((StandaloneGatewayHost)fixture.Scenario.Host).Services;
        var sink = services.GetRequiredService<IUsageSink>();
        var random = new Random(20261207);
        var now = DateTimeOffset.UtcNow;
        var counts = keys.ToDictionary(static k => k.Id, static _ => 0);
        var serial = 0;
        for (var day = 13; day >= 0; day--)
        {
            // A working week's shape: quieter at the weekend, growing over the fortnight.
            var start = now.AddDays(-day);
            var weekend = start.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday;
            foreach (var (id, weight) in keys)
            {
                var calls = (int)(weight * (weekend ? 0.4 : 1.0) * (1 + (13 - day) / 13.0) * (0.7 + random.NextDouble() * 0.6));
                for (var i = 0; i < calls; i++)
                {
                    var model = Models[random.Next(10) switch { < 6 => 0, < 9 => 1, _ => 2 }];
                    var failed = random.Next(25) == 0;
                    var input = failed ? 0 : random.Next(600, 9000);
                    var cacheRead = failed || random.Next(3) == 0 ? 0 : random.Next(2000, 30000);
                    var cacheWrite = failed || random.Next(5) != 0 ? 0 : random.Next(1000, 8000);
                    sink.Submit(new UsageRecord
                    {
                        RequestId = string.Create(CultureInfo.InvariantCulture, $"req_console{serial++:D8}"),
                        KeyId = id,
                        Endpoint = "messages",
                        StartedAt = start.AddMinutes(-random.Next(0, 600)),
                        Model = model,
                        Upstream = "local",
                        UpstreamModel = model,
                        Stream = random.Next(2) == 0,
                        Status = failed ? 529 : 200,
                        ErrorType = failed ? "overloaded_error" : null,
                        State = failed ? UsageState.Failed : UsageState.Complete,
                        InputTokens = input,
                        OutputTokens = failed ? 0 : random.Next(150, 2400),
                        CacheCreationInputTokens = cacheWrite,
                        CacheCreation5mInputTokens = cacheWrite,
                        CacheCreation1hInputTokens = 0,
                        CacheReadInputTokens = cacheRead,
                        DurationMs = random.Next(400, 9000),
                    });
                    counts[id]++;
                }
            }
        }

        return counts;
    }

    private static Task<string[]> RequestIdsAsync(IPage page) =>
        page.Locator("tr[data-request-id]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.requestId)");

    private async Task WaitForRecordsAsync(string keyId, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while ((await fixture.Scenario.Environment.AllUsageAsync(keyId)).Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"The usage records of {keyId} were not all written in time.");
            await Task.Delay(100);
        }
    }
}
