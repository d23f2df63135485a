using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.WebConsole;

/// <summary>
/// One gateway for the console's browser tests (standalone mode, Azurite tables of its own, the built-in local
/// upstream, prices, an admin key) and one headless system Chromium driven by Playwright. Each test opens its own
/// browser context (<see cref="ConsoleSession"/>) and makes its own keys, so tests never read each other's numbers.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public GatewayScenario Scenario { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public Uri BaseAddress => Scenario.Host.BaseAddress;

    /// <summary>Where screenshots go: the test output's artifacts folder, never the repository.</summary>
    public static string ArtifactsFolder { get; } = Path.Combine(AppContext.BaseDirectory, "artifacts", "console");

    public async Task InitializeAsync()
    {
        // Playwright's own browsers are never downloaded: the system Chromium is launched by path.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone, withAnthropicUpstream: false, configure: static settings =>
        {
            settings["Gateway:Prices:Currency"] = "USD";
            settings["Gateway:Prices:sonnet:Models"] = "claude-sonnet-*";
            settings["Gateway:Prices:sonnet:Input"] = "3";
            settings["Gateway:Prices:sonnet:Output"] = "15";
            settings["Gateway:Prices:haiku:Models"] = "claude-haiku-*";
            settings["Gateway:Prices:haiku:Input"] = "1";
            settings["Gateway:Prices:haiku:Output"] = "5";
            settings["Gateway:Prices:opus:Models"] = "claude-opus-*";
            settings["Gateway:Prices:opus:Input"] = "15";
            settings["Gateway:Prices:opus:Output"] = "75";
        });
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = SystemChromium.ExecutablePath,
            Headless = true,
        });
        Directory.CreateDirectory(ArtifactsFolder);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (Scenario is not null)
        {
            await Scenario.DisposeAsync();
        }
    }

    /// <summary>A new browser context and page on the gateway, with every guard on.</summary>
    public Task<ConsoleSession> OpenAsync() => ConsoleSession.OpenAsync(Browser, BaseAddress);

    /// <summary>An HTTP client with the admin key.</summary>
    public HttpClient Admin()
    {
        var http = Scenario.Http();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayTestEnvironment.AdminKey);
        return http;
    }

    /// <summary>Creates a key through the admin API; returns its id and secret.</summary>
    public async Task<(string Id, string Secret)> CreateKeyAsync(string body)
    {
        using var admin = Admin();
        using var response = await admin.PostAsync("manage/keys", new StringContent(body, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        using var created = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var secret = created.RootElement.GetProperty("key").GetString()!;
        KnownSecrets.Register(secret);
        return (created.RootElement.GetProperty("id").GetString()!, secret);
    }

    /// <summary>
    /// Makes calls through the gateway with a key (real HTTP, the local upstream answers); returns their request ids once
    /// their usage records are written.
    /// </summary>
    public async Task<IReadOnlyList<string>> CallAsync(string keyId, string secret, params (string Model, string Text)[] calls)
    {
        using var http = Scenario.Http();
        var ids = new List<string>();
        foreach (var (model, text) in calls)
        {
            using var response = await http.SendAsync(RawClient.Messages(secret, RawClient.Body(model, text: text)));
            var id = response.Headers.GetValues("request-id").Single();
            await Scenario.Environment.WaitForUsageAsync(keyId, id);
            ids.Add(id);
        }

        return ids;
    }
}
