using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.WebConsole;

/// <summary>
/// The console (docs/console.md) in a real headless Chromium against a real gateway: an operator and a key holder sign
/// in, keys are made and changed through the pages, real calls go through the gateway and come back in the charts'
/// data and the calls list. Every test also checks that no request left for another origin, that the page logged no
/// error and fired no dialog, and that the key was kept in no cookie, no URL and no localStorage.
/// </summary>
[Collection(ConsoleTests.Name)]
public sealed class ConsoleBrowserTests(ConsoleFixture fixture)
{
    private const string AdminKey = GatewayTestEnvironment.AdminKey;

    [Fact]
    public async Task Operator_CreatesKeyAndSeesItsCalls_InChartsAndCallsList()
    {
        // Arrange
        await using var session = await fixture.OpenAsync();
        var page = session.Page;
        await session.SignInAsync(AdminKey, operatorRole: true);

        // Act: create a key in the page; its secret is shown once.
        await page.GetByRole(AriaRole.Link, new() { Name = "Keys" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        await page.Locator(".key-form input[name=name]").FillAsync("team-console");
        await page.Locator(".key-form input[name=requestsPerMinute]").FillAsync("100");
        await page.Locator(".key-form input[name=spendCap]").FillAsync("50");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key", Exact = true }).Last.ClickAsync();
        var secret = await page.Locator("code[data-secret]").TextContentAsync();
        KnownSecrets.Register(secret);
        var id = await page.Locator("tr[data-key-id]").Filter(new() { HasText = "team-console" }).GetAttributeAsync("data-key-id");
        await page.GetByRole(AriaRole.Link, new() { Name = "Overview" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Keys" }).ClickAsync();
        var shownAgain = await page.Locator("code[data-secret]").CountAsync();
        var calls = await fixture.CallAsync(id!, secret!,
            ("claude-sonnet-4-5", "one two three"), ("claude-sonnet-4-5", "four five"), ("claude-haiku-4-5", "six"));
        await page.GotoAsync("console#/overview");
        var overview = await session.WaitForChartAsync("calls", t => t["Succeeded"] >= 3);
        await session.ScreenshotAsync("operator-overview");
        await page.GotoAsync($"console#/keys/{id}");
        var keyCalls = await session.WaitForChartAsync("calls", t => t["Succeeded"] == 3);
        var keyTokens = await session.ChartTotalsAsync("tokens");
        var remaining = await page.Locator("tr", new() { HasText = "Requests per minute" }).Locator("td").Last.TextContentAsync();
        var statementRows = await page.Locator(".statement tbody tr").CountAsync();
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Download CSV" }).ClickAsync());
        var csv = await File.ReadAllTextAsync((await download.PathAsync())!);
        await session.ScreenshotAsync("operator-key");
        await page.GotoAsync("console#/calls");
        await page.Locator("select[aria-label=Key]").SelectOptionAsync(id!);
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Assertions.Expect(page.Locator("tr[data-request-id]")).ToHaveCountAsync(3);
        var listed = await page.Locator("tr[data-request-id]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.requestId)");
        await page.Locator("input[aria-label=Model]").FillAsync("claude-haiku-4-5");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Assertions.Expect(page.Locator("tr[data-request-id]")).ToHaveCountAsync(1);
        var haikuOnly = await page.Locator("tr[data-request-id]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.requestId)");
        await session.ScreenshotAsync("operator-calls");

        // Assert
        Assert.StartsWith("sk-qh-", secret, StringComparison.Ordinal);
        Assert.Equal(0, shownAgain);
        Assert.True(overview["Succeeded"] >= 3);
        Assert.Equal(3, keyCalls["Succeeded"]);
        Assert.Equal(0, keyCalls["Errors"]);
        Assert.True(keyTokens["Input"] > 0 && keyTokens["Output"] > 0);
        // Three calls in this minute of a 100 a minute (fewer if the minute turned meanwhile).
        Assert.InRange(int.Parse(remaining!.Trim(), System.Globalization.CultureInfo.InvariantCulture), 97, 100);
        Assert.Equal(2, statementRows);
        Assert.Contains(id!, csv, StringComparison.Ordinal);
        Assert.Equal(calls.Reverse(), listed);
        Assert.Equal([calls[2]], haikuOnly);
        await session.AssertCleanAsync(AdminKey, secret!);
    }

    [Fact]
    public async Task Operator_SeesUpstreamsAndTheirHealth()
    {
        // Arrange
        await using var session = await fixture.OpenAsync();
        await session.SignInAsync(AdminKey, operatorRole: true);

        // Act
        await session.Page.GetByRole(AriaRole.Link, new() { Name = "Upstreams" }).ClickAsync();
        await session.Page.Locator(".card h2").First.WaitForAsync();
        var names = await session.Page.Locator(".card h2").AllTextContentsAsync();
        var state = await session.Page.Locator(".card .card-actions .badge").First.TextContentAsync();

        // Assert: the gateway's one upstream (the built-in local one) and its state.
        Assert.Equal(["local"], names);
        Assert.StartsWith("available", state, StringComparison.Ordinal);
        await session.AssertCleanAsync(AdminKey);
    }

    [Fact]
    public async Task Operator_EditsAndDeletesKey_TheGatewayKeepsWhatThePageSaved()
    {
        // Arrange
        var (id, secret) = await fixture.CreateKeyAsync("""{"name":"editable"}""");
        await using var session = await fixture.OpenAsync();
        var page = session.Page;
        await session.SignInAsync(AdminKey, operatorRole: true);
        await page.GotoAsync($"console#/keys/{id}");
        using var admin = fixture.Admin();
        using var http = fixture.Scenario.Http();

        // Act: rename, restrict to haiku models with a requests limit; then delete.
        await page.Locator(".key-form input[name=name]").FillAsync("edited");
        await page.Locator(".key-form input[name=models]").FillAsync("claude-haiku-*");
        await page.Locator(".key-form input[name=requestsPerMinute]").FillAsync("7");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        await page.Locator(".key-title .key-name", new() { HasText = "edited" }).WaitForAsync();
        using var saved = JsonDocument.Parse(await admin.GetStringAsync($"manage/keys/{id}"));
        using var otherModel = await http.SendAsync(RawClient.Messages(secret, RawClient.Body("claude-sonnet-4-5")));
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete key…" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete for good" }).ClickAsync();
        await page.Locator("h1", new() { HasText = "Keys" }).WaitForAsync();
        await page.Locator("tr[data-key-id], p.empty").First.WaitForAsync();
        var listedAfterDelete = await page.Locator($"tr[data-key-id='{id}']").CountAsync();
        using var afterDelete = await http.SendAsync(RawClient.Messages(secret, RawClient.Body("claude-haiku-4-5")));

        // Assert
        Assert.Equal("edited", saved.RootElement.GetProperty("name").GetString());
        Assert.Equal(["claude-haiku-*"], saved.RootElement.GetProperty("models").EnumerateArray().Select(static m => m.GetString()));
        Assert.Equal(7, saved.RootElement.GetProperty("limits").GetProperty("requestsPerMinute").GetInt32());
        Assert.Equal(HttpStatusCode.Forbidden, otherModel.StatusCode);
        Assert.Equal(0, listedAfterDelete);
        Assert.Equal(HttpStatusCode.Unauthorized, afterDelete.StatusCode);
        await session.AssertCleanAsync(AdminKey);
    }

    [Fact]
    public async Task Operator_RotatesAndDisablesKey_TheGatewayRefusesTheOldSecrets()
    {
        // Arrange
        var (id, oldSecret) = await fixture.CreateKeyAsync("""{"name":"rotating"}""");
        await using var session = await fixture.OpenAsync();
        var page = session.Page;
        await session.SignInAsync(AdminKey, operatorRole: true);
        await page.GotoAsync($"console#/keys/{id}");
        using var http = fixture.Scenario.Http();

        // Act: rotate with no grace period, then disable.
        await page.Locator("select[aria-label='Grace period']").SelectOptionAsync("PT0S");
        await page.GetByRole(AriaRole.Button, new() { Name = "Rotate", Exact = true }).ClickAsync();
        var newSecret = await page.Locator("code[data-secret]").TextContentAsync();
        KnownSecrets.Register(newSecret);
        using var oldAfterRotation = await http.SendAsync(RawClient.Messages(oldSecret, RawClient.Body("claude-sonnet-4-5")));
        using var newAfterRotation = await http.SendAsync(RawClient.Messages(newSecret, RawClient.Body("claude-sonnet-4-5")));
        await page.GetByRole(AriaRole.Button, new() { Name = "Disable" }).ClickAsync();
        await page.Locator(".key-title .badge", new() { HasText = "Disabled" }).WaitForAsync();
        using var newAfterDisable = await http.SendAsync(RawClient.Messages(newSecret, RawClient.Body("claude-sonnet-4-5")));

        // Assert
        Assert.StartsWith("sk-qh-", newSecret, StringComparison.Ordinal);
        Assert.NotEqual(oldSecret, newSecret);
        Assert.Equal(HttpStatusCode.Unauthorized, oldAfterRotation.StatusCode);
        Assert.Equal(HttpStatusCode.OK, newAfterRotation.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, newAfterDisable.StatusCode);
        await session.AssertCleanAsync(AdminKey, newSecret!);
    }

    [Fact]
    public async Task Customer_SeesOwnNumbers_AndNothingOfAnotherKey()
    {
        // Arrange: two keys with calls of their own.
        var (mine, mySecret) = await fixture.CreateKeyAsync("""{"name":"customer-mine","limits":{"requestsPerMinute":50,"spendCap":20,"maxFileBytes":1610612736}}""");
        var (theirs, theirSecret) = await fixture.CreateKeyAsync("""{"name":"customer-theirs"}""");
        await fixture.CallAsync(mine, mySecret, ("claude-sonnet-4-5", "mine one"), ("claude-sonnet-4-5", "mine two"));
        await fixture.CallAsync(theirs, theirSecret, ("claude-opus-4-1", "theirs"));
        await using var session = await fixture.OpenAsync();
        var page = session.Page;

        // Act
        await session.SignInAsync(mySecret, operatorRole: false);
        var calls = await session.WaitForChartAsync("calls", t => t["Succeeded"] == 2);
        await page.Locator(".statement tbody tr").First.WaitForAsync();
        // The key's own panel loads apart from the chart and the statement: wait for it too.
        await page.Locator("main").GetByText("customer-mine").First.WaitForAsync();
        var text = await page.Locator("main").TextContentAsync() ?? "";
        // The file storage limit in binary units, its exact bytes in the title (allowed and remaining: nothing held).
        var storage = await page.Locator("tr", new() { HasText = "File storage held at once" }).Locator("td").AllTextContentsAsync();
        var exactBytes = await page.Locator("span[title='1,610,612,736 bytes']").CountAsync();
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Download JSON" }).ClickAsync());
        var statement = await File.ReadAllTextAsync((await download.PathAsync())!);
        await session.ScreenshotAsync("customer");

        // Assert: its own numbers, none of the other key's, and no admin route asked.
        Assert.Equal(2, calls["Succeeded"]);
        Assert.Contains("customer-mine", text, StringComparison.Ordinal);
        Assert.Contains("Spend cap", text, StringComparison.Ordinal);
        Assert.Equal(["File storage held at once", "1.5 GiB", "0 B", "1.5 GiB"], storage);
        Assert.Equal(2, exactBytes);
        Assert.DoesNotContain("customer-theirs", text, StringComparison.Ordinal);
        Assert.DoesNotContain(theirs, text, StringComparison.Ordinal);
        Assert.DoesNotContain("claude-opus", text, StringComparison.Ordinal);
        Assert.Contains(mine, statement, StringComparison.Ordinal);
        Assert.DoesNotContain(theirs, statement, StringComparison.Ordinal);
        Assert.DoesNotContain(session.Requests, url => url.Contains("/manage", StringComparison.Ordinal));
        await session.AssertCleanAsync(mySecret);
    }

    [Theory]
    [InlineData(true, "not the admin key")]
    [InlineData(false, "refused this key")]
    public async Task SignIn_RefusesWrongKey_WithPlainMessage(bool operatorRole, string expected)
    {
        // Arrange
        await using var session = await fixture.OpenAsync();
        session.AllowError("401");
        var wrong = operatorRole ? "not-the-admin-key" : "sk-qh-" + new string('A', 43);

        // Act
        await session.GotoAsync();
        await session.Page.GetByLabel(operatorRole ? "Operator" : "Key holder").CheckAsync();
        await session.Page.Locator("input[name=key]").FillAsync(wrong);
        await session.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        var message = await session.Page.Locator(".notice-error").TextContentAsync();
        var kept = await session.Page.EvaluateAsync<string>("() => JSON.stringify(sessionStorage)");

        // Assert
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.Equal(0, await session.Page.Locator("aside.sidebar").CountAsync());
        Assert.DoesNotContain(wrong, kept, StringComparison.Ordinal);
        await session.AssertCleanAsync(wrong);
    }

    [Fact]
    public async Task HostileKeyName_ShowsAsText_AndNoScriptRuns()
    {
        // Arrange
        const string hostile = "<img src=x onerror=alert(1)>";
        var (id, secret) = await fixture.CreateKeyAsync(JsonSerializer.Serialize(new { name = hostile }));
        await using var session = await fixture.OpenAsync();
        var page = session.Page;
        await session.SignInAsync(AdminKey, operatorRole: true);

        // Act
        await page.GotoAsync("console#/keys");
        var listed = await page.Locator($"tr[data-key-id='{id}'] .key-name").TextContentAsync();
        await page.GotoAsync($"console#/keys/{id}");
        var title = await page.Locator(".key-title .key-name").TextContentAsync();
        var images = await page.Locator("img").CountAsync();
        await using var customer = await fixture.OpenAsync();
        await customer.SignInAsync(secret, operatorRole: false);
        var ownTitle = await customer.Page.Locator(".key-title .key-name").TextContentAsync();

        // Assert: the characters as they are, no element made of them, no dialog (checked by AssertCleanAsync).
        Assert.Equal(hostile, listed);
        Assert.Equal(hostile, title);
        Assert.Equal(hostile, ownTitle);
        Assert.Equal(0, images);
        Assert.Equal(0, await customer.Page.Locator("img").CountAsync());
        await session.AssertCleanAsync(AdminKey);
        await customer.AssertCleanAsync(secret);
    }
}
