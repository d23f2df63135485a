using System.Net;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.WebConsole;

namespace Qhaigc.Functions.Tests.WebConsole;

/// <summary><c>/console</c>: the embedded browser app served over real HTTP in every hosting mode (docs/console.md).</summary>
public sealed class ConsoleEndToEndTests
{
    public static TheoryData<string> Modes => GatewayHosts.Modes;

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Console_ServesItsFiles_WithTypesEntityTagsAndSecurityHeaders(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        using var http = scenario.Http();

        // Act
        using var root = await http.GetAsync("console");
        using var slash = await http.GetAsync("console/");
        using var index = await http.GetAsync("console/index.html");
        using var script = await http.GetAsync("console/app.js");
        using var style = await http.GetAsync("console/app.css");
        using var again = new HttpRequestMessage(HttpMethod.Get, "console/app.js");
        again.Headers.IfNoneMatch.Add(script.Headers.ETag!);
        using var notModified = await http.SendAsync(again);
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "console"));

        // Assert: /console is index.html; every answer carries the policy and its type; a matching ETag is a 304.
        var html = await root.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Contains("<html", html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(html, await slash.Content.ReadAsStringAsync());
        Assert.Equal(html, await index.Content.ReadAsStringAsync());
        Assert.Equal("text/html", root.Content.Headers.ContentType?.MediaType);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal("text/css", style.Content.Headers.ContentType?.MediaType);
        foreach (var response in new[] { root, slash, index, script, style, notModified, head })
        {
            AssertSecurityHeaders(response);
        }

        Assert.True(root.Headers.CacheControl?.NoCache);
        Assert.NotNull(script.Headers.ETag);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Console_Answers404_ForUnknownFilesAndEveryTraversal(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        using var http = scenario.Http();
        string[] paths =
        [
            "console/nothing.js", "console/app.js/", "console/APP.JS", "console/%2e%2e/host.json", "console/..%2fhost.json",
            "console/%2e%2e%2fhost.json", "console/..%5chost.json", "console/%252e%252e/host.json", "console/wwwroot/index.html",
            "console/./app.jsx", "console/Qhaigc.Functions.dll", "console/%2fetc/passwd",
        ];

        foreach (var path in paths)
        {
            // Act: sent as written (no client-side normalisation of dot segments).
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(scenario.Host.BaseAddress + path, UriKind.Absolute));
            using var response = await http.SendAsync(request);

            // Assert
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {response.StatusCode}");
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Console_AnswersNotFoundWithItsPolicy_AndNeverServesAnotherMethod(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        using var http = scenario.Http();

        // Act
        using var missing = await http.GetAsync("console/missing.css");
        using var post = await http.PostAsync("console", new StringContent("x"));

        // Assert
        await GatewayAssert.ErrorAsync(missing, 404, "not_found_error");
        AssertSecurityHeaders(missing);
        await GatewayAssert.ErrorAsync(post, 404, "not_found_error");
    }

    [Fact]
    public void ConsoleAssets_HoldTheAppsFiles_UnderTheirPaths()
    {
        // Arrange & Act
        var assets = new ConsoleAssets();

        // Assert
        Assert.Contains(ConsoleAssets.IndexPath, assets.Paths);
        Assert.Contains("app.js", assets.Paths);
        Assert.Contains("app.css", assets.Paths);
        Assert.Same(assets.Find(""), assets.Find(ConsoleAssets.IndexPath));
        Assert.Null(assets.Find("../app.js"));
    }

    private static void AssertSecurityHeaders(HttpResponseMessage response)
    {
        Assert.Equal(ConsoleHandler.ContentSecurityPolicy, Header(response, "Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", ConsoleHandler.ContentSecurityPolicy, StringComparison.Ordinal);
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(",", values)
            : null;
}
