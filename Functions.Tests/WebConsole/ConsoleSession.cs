using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Playwright;

namespace Qhaigc.Functions.Tests.WebConsole;

/// <summary>
/// One browser context and page on the console, guarded: every request is routed, and one to any origin but the
/// gateway's is aborted and counted; console errors, page errors and dialogs (an <c>alert</c> an injected script would
/// fire) are collected. <see cref="AssertCleanAsync"/> fails the test on any of them.
/// </summary>
public sealed class ConsoleSession : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly string _origin;
    private readonly ConcurrentQueue<string> _foreign = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly ConcurrentQueue<string> _dialogs = new();
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly List<string> _allowedErrors = [];

    private ConsoleSession(IBrowserContext context, IPage page, Uri baseAddress)
    {
        _context = context;
        Page = page;
        _origin = baseAddress.GetLeftPart(UriPartial.Authority);
    }

    public IPage Page { get; }

    /// <summary>Every URL the page asked for, in order.</summary>
    public IReadOnlyCollection<string> Requests => _requests;

    public static async Task<ConsoleSession> OpenAsync(IBrowser browser, Uri baseAddress)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1440, Height = 900 },
            AcceptDownloads = true,
        });
        context.SetDefaultTimeout(10_000);
        var page = await context.NewPageAsync();
        var session = new ConsoleSession(context, page, baseAddress);
        await context.RouteAsync("**/*", async route =>
        {
            var url = route.Request.Url;
            session._requests.Enqueue(url);
            if (url.StartsWith(session._origin + "/", StringComparison.Ordinal))
            {
                await route.ContinueAsync();
            }
            else
            {
                session._foreign.Enqueue(url);
                await route.AbortAsync();
            }
        });
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                session._errors.Enqueue("console: " + message.Text);
            }
        };
        page.PageError += (_, error) => session._errors.Enqueue("page: " + error);
        page.Dialog += async (_, dialog) =>
        {
            session._dialogs.Enqueue(dialog.Type + ": " + dialog.Message);
            await dialog.DismissAsync();
        };
        return session;
    }

    /// <summary>A console error the test itself causes and expects (the browser reports a refused request's status).</summary>
    public void AllowError(string fragment) => _allowedErrors.Add(fragment);

    public Task GotoAsync(string fragment = "") => Page.GotoAsync("console" + fragment);

    /// <summary>Opens the console and signs in; waits for the first page after it.</summary>
    public async Task SignInAsync(string key, bool operatorRole)
    {
        await GotoAsync();
        await Page.GetByLabel(operatorRole ? "Operator" : "Key holder").CheckAsync();
        await Page.Locator("input[name=key]").FillAsync(key);
        await Page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign in" }).ClickAsync();
        await Page.Locator("aside.sidebar").WaitForAsync();
    }

    /// <summary>The numbers a chart draws (its data-series attribute): the sum of each series, by label.</summary>
    public async Task<Dictionary<string, double>> ChartTotalsAsync(string chart)
    {
        var json = await Page.Locator($"canvas[data-chart='{chart}']").First.GetAttributeAsync("data-series");
        using var document = JsonDocument.Parse(json!);
        return document.RootElement.GetProperty("series").EnumerateArray().ToDictionary(
            static s => s.GetProperty("label").GetString()!,
            static s => s.GetProperty("data").EnumerateArray().Sum(static d => d.GetDouble()));
    }

    /// <summary>
    /// Waits until a chart's series add up as expected, reloading its range (the chosen preset) between reads: the
    /// daily aggregates are written after the calls' answers.
    /// </summary>
    public async Task<Dictionary<string, double>> WaitForChartAsync(string chart, Func<Dictionary<string, double>, bool> expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            await Page.Locator($"canvas[data-chart='{chart}']").First.WaitForAsync();
            var totals = await ChartTotalsAsync(chart);
            if (expected(totals) || DateTime.UtcNow > deadline)
            {
                return totals;
            }

            await Task.Delay(250);
            await Page.Locator(".segmented button.active").First.ClickAsync();
        }
    }

    public Task ScreenshotAsync(string name) =>
        Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, name + ".png"), FullPage = true });

    /// <summary>No request left for another origin, no console or page error, no dialog; the key kept nowhere but sessionStorage.</summary>
    public async Task AssertCleanAsync(params string[] secrets)
    {
        Assert.Empty(_foreign);
        Assert.DoesNotContain(_errors, e => !_allowedErrors.Any(a => e.Contains(a, StringComparison.Ordinal)));
        Assert.Empty(_dialogs);
        Assert.Empty(await _context.CookiesAsync());
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(_requests, url => url.Contains(Uri.EscapeDataString(secret), StringComparison.Ordinal) || url.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(secret, await Page.EvaluateAsync<string>("() => JSON.stringify(localStorage)"), StringComparison.Ordinal);
        }
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}
