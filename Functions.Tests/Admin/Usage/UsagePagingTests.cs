using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Admin.Usage;

/// <summary><c>GET /manage/usage</c> pages through Azurite by the table's continuation, with an opaque signed cursor.</summary>
public sealed class UsagePagingTests
{
    public static TheoryData<string> Modes => GatewayHosts.Modes;

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Usage_ReturnsEachRecordOnce_WhenTheRangeHoldsMoreThanOnePage(string mode)
    {
        // Arrange: 250 records of the scenario's key and 30 of a second key, straight in the usage table.
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        var (_, other) = await scenario.Environment.CreateKeyAsync("other");
        var now = DateTimeOffset.UtcNow;
        var mine = Records(scenario.Key.Id, 250, now);
        var theirs = Records(other.Id, 30, now);
        await scenario.Environment.Usage.WriteBatchAsync([.. mine, .. theirs], CancellationToken.None);
        using var admin = Admin(scenario);
        var range = $"from={Uri.EscapeDataString(now.AddDays(-1).ToString("O"))}&to={Uri.EscapeDataString(now.AddHours(1).ToString("O"))}";

        // Act
        var oneKey = await PageThroughAsync(admin, $"manage/usage?keyId={scenario.Key.Id}&{range}&limit=100");
        var everyKey = await PageThroughAsync(admin, $"manage/usage?{range}&limit=100");

        // Assert: pages of 100 until the last; every record exactly once; totals with the first page only.
        Assert.Equal([100, 100, 50], oneKey.PageSizes);
        Assert.Equal(mine.Select(static r => r.RequestId).Order(StringComparer.Ordinal), oneKey.RequestIds.Order(StringComparer.Ordinal));
        Assert.Equal(250, oneKey.TotalCalls);
        Assert.Equal([100, 100, 80], everyKey.PageSizes);
        Assert.Equal(mine.Concat(theirs).Select(static r => r.RequestId).Order(StringComparer.Ordinal), everyKey.RequestIds.Order(StringComparer.Ordinal));
        Assert.Equal(280, everyKey.TotalCalls);
    }

    [Fact]
    public async Task Usage_RefusesACursorThatWasChanged_Or_IsGarbage_Or_BelongsToAnotherQuery()
    {
        // Arrange: three records, pages of one, so the first page has a cursor.
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone, withAnthropicUpstream: false);
        var now = DateTimeOffset.UtcNow;
        await scenario.Environment.Usage.WriteBatchAsync(Records(scenario.Key.Id, 3, now), CancellationToken.None);
        using var admin = Admin(scenario);
        var query = $"manage/usage?keyId={scenario.Key.Id}&from={Uri.EscapeDataString(now.AddDays(-1).ToString("O"))}&limit=1";
        using var first = JsonDocument.Parse(await admin.GetStringAsync(query));
        var cursor = first.RootElement.GetProperty("nextCursor").GetString()!;
        var middle = cursor.Length / 2;
        var changed = cursor[..middle] + (cursor[middle] == 'A' ? 'B' : 'A') + cursor[(middle + 1)..];

        // Act
        using var valid = await admin.GetAsync($"{query}&cursor={cursor}");
        using var tampered = await admin.GetAsync($"{query}&cursor={changed}");
        using var truncated = await admin.GetAsync($"{query}&cursor={cursor[..^2]}");
        using var garbage = await admin.GetAsync($"{query}&cursor=%%%");
        using var number = await admin.GetAsync($"{query}&cursor=100");
        using var otherRange = await admin.GetAsync($"manage/usage?keyId={scenario.Key.Id}&from={Uri.EscapeDataString(now.AddDays(-2).ToString("O"))}&limit=1&cursor={cursor}");

        // Assert: the genuine cursor still works; anything else is the client's error, never a 500.
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        await GatewayAssert.ErrorAsync(tampered, 400, "invalid_request_error", "cursor: invalid cursor");
        await GatewayAssert.ErrorAsync(truncated, 400, "invalid_request_error", "cursor: invalid cursor");
        await GatewayAssert.ErrorAsync(garbage, 400, "invalid_request_error", "cursor: invalid cursor");
        await GatewayAssert.ErrorAsync(number, 400, "invalid_request_error", "cursor: invalid cursor");
        await GatewayAssert.ErrorAsync(otherRange, 400, "invalid_request_error");
    }

    [Fact]
    public async Task Usage_ContinuesTheCursorsQuery_WhenTheNextCallLeavesTheRangeOut()
    {
        // Arrange: the default range (the last 30 days) moves with the clock; a cursor keeps the one it was made for.
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone, withAnthropicUpstream: false);
        var records = Records(scenario.Key.Id, 3, DateTimeOffset.UtcNow);
        await scenario.Environment.Usage.WriteBatchAsync(records, CancellationToken.None);
        using var admin = Admin(scenario);

        // Act
        var pages = await PageThroughAsync(admin, "manage/usage?limit=2");

        // Assert
        Assert.Equal([2, 1], pages.PageSizes);
        Assert.Equal(records.Select(static r => r.RequestId).Order(StringComparer.Ordinal), pages.RequestIds.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("to=0001-01-01", "from: must be before to")]
    [InlineData("to=0001-01-01&from=9999-12-31", "from: must be before to")]
    [InlineData("from=9999-12-31", "from: must be before to")]
    [InlineData("limit=0", "limit: Input should be an integer from 1 to 1000")]
    [InlineData("keyId=key_'%20or%20'1'%3D'1", "keyId: not a key id")]
    public async Task Usage_Is400_WhenTheQueryCannotBeARange(string query, string message)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone, withAnthropicUpstream: false);
        using var admin = Admin(scenario);

        // Act
        using var response = await admin.GetAsync("manage/usage?" + query);

        // Assert: the edges of time are the client's error, not a 500.
        await GatewayAssert.ErrorAsync(response, 400, "invalid_request_error", message);
    }

    [Fact]
    public async Task Usage_PagesNewestFirst_WithFilters_GivingEachMatchingRecordOnceInTimeOrder()
    {
        // Arrange: two keys, records spread over days (gaps of all sizes), three sharing one instant, every state and
        // a few statuses.
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone, withAnthropicUpstream: false);
        var (_, other) = await scenario.Environment.CreateKeyAsync("other");
        var now = DateTimeOffset.UtcNow;
        var states = new[] { UsageState.Complete, UsageState.Failed, UsageState.Cancelled, UsageState.Truncated };
        var records = Records(scenario.Key.Id, 120, now).Concat(Records(other.Id, 40, now))
            .Select((r, i) => r with
            {
                StartedAt = i is 7 or 8 or 130 ? now.AddHours(-5) : now.AddMinutes(-(i * 53 % 4000) - i / 7.0),
                State = states[i % 4],
                Status = states[i % 4] == UsageState.Failed ? 529 : 200,
            }).ToList();
        await scenario.Environment.Usage.WriteBatchAsync(records, CancellationToken.None);
        using var admin = Admin(scenario);
        var range = $"from={Uri.EscapeDataString(now.AddDays(-5).ToString("O"))}&to={Uri.EscapeDataString(now.AddHours(1).ToString("O"))}";

        // Act
        var newest = await PageThroughAsync(admin, $"manage/usage?{range}&order=desc&model=model-a&limit=25");
        var failed = await PageThroughAsync(admin, $"manage/usage?keyId={scenario.Key.Id}&{range}&order=desc&state=failed&status=529&limit=50");
        var oldest = await PageThroughAsync(admin, $"manage/usage?keyId={scenario.Key.Id}&{range}&state=complete&limit=50");

        // Assert: newest first across keys, each matching record once, the totals filtered alike; the default order stays.
        var expected = records.Where(static r => r.Model == "model-a").OrderByDescending(static r => r.StartedAt.UtcTicks)
            .ThenByDescending(static r => r.RequestId, StringComparer.Ordinal).Select(static r => r.RequestId).ToList();
        Assert.Equal(expected, newest.RequestIds);
        Assert.Equal(expected.Count, newest.TotalCalls);
        var expectedFailed = records.Where(r => r.KeyId == scenario.Key.Id && r.State == UsageState.Failed)
            .OrderByDescending(static r => r.StartedAt.UtcTicks).ThenByDescending(static r => r.RequestId, StringComparer.Ordinal)
            .Select(static r => r.RequestId).ToList();
        Assert.Equal(expectedFailed, failed.RequestIds);
        Assert.Equal(
            records.Where(r => r.KeyId == scenario.Key.Id && r.State == UsageState.Complete).OrderBy(static r => r.StartedAt.UtcTicks)
                .ThenBy(static r => r.RequestId, StringComparer.Ordinal).Select(static r => r.RequestId),
            oldest.RequestIds);
    }

    [Theory]
    [InlineData("state=done", "state: Input should be 'complete', 'truncated', 'cancelled' or 'failed'")]
    [InlineData("status=abc", "status: Input should be an HTTP status from 100 to 599")]
    [InlineData("status=99", "status: Input should be an HTTP status from 100 to 599")]
    [InlineData("order=newest", "order: Input should be 'asc' or 'desc'")]
    [InlineData("model=", "model: Input should be a model name of 1 to 256 characters")]
    public async Task Usage_RefusesFiltersItCannotRead(string filter, string message)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone, withAnthropicUpstream: false);
        using var admin = Admin(scenario);

        // Act
        using var response = await admin.GetAsync($"manage/usage?{filter}");

        // Assert
        await GatewayAssert.ErrorAsync(response, 400, "invalid_request_error", message);
    }

    [Fact]
    public async Task Usage_RefusesACursor_WhenTheNextCallChangesItsFilters()
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone, withAnthropicUpstream: false);
        var now = DateTimeOffset.UtcNow;
        await scenario.Environment.Usage.WriteBatchAsync(Records(scenario.Key.Id, 4, now), CancellationToken.None);
        using var admin = Admin(scenario);
        var query = $"manage/usage?keyId={scenario.Key.Id}&from={Uri.EscapeDataString(now.AddDays(-1).ToString("O"))}&limit=1&order=desc";
        using var first = JsonDocument.Parse(await admin.GetStringAsync(query));
        var cursor = first.RootElement.GetProperty("nextCursor").GetString()!;

        // Act
        using var same = await admin.GetAsync($"{query}&cursor={cursor}");
        using var leftOut = await admin.GetAsync($"manage/usage?cursor={cursor}");
        using var otherOrder = await admin.GetAsync($"{query.Replace("order=desc", "order=asc", StringComparison.Ordinal)}&cursor={cursor}");
        using var otherModel = await admin.GetAsync($"{query}&model=model-a&cursor={cursor}");

        // Assert: newest first goes on where it ended; a changed filter or order is the client's error.
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        using var leftOutPage = JsonDocument.Parse(await leftOut.Content.ReadAsStringAsync());
        Assert.True(first.RootElement.GetProperty("records")[0].GetProperty("startedAt").GetDateTimeOffset() >
                    leftOutPage.RootElement.GetProperty("records")[0].GetProperty("startedAt").GetDateTimeOffset());
        await GatewayAssert.ErrorAsync(otherOrder, 400, "invalid_request_error");
        await GatewayAssert.ErrorAsync(otherModel, 400, "invalid_request_error");
    }

    private static async Task<(List<int> PageSizes, List<string> RequestIds, long TotalCalls)> PageThroughAsync(HttpClient admin, string query)
    {
        var sizes = new List<int>();
        var ids = new List<string>();
        long calls = 0;
        string? cursor = null;
        do
        {
            using var response = await admin.GetAsync(cursor is null ? query : $"{query}&cursor={cursor}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var records = page.RootElement.GetProperty("records");
            sizes.Add(records.GetArrayLength());
            ids.AddRange(records.EnumerateArray().Select(static r => r.GetProperty("requestId").GetString()!));
            if (cursor is null)
            {
                calls = page.RootElement.GetProperty("totals").EnumerateArray().Sum(static t => t.GetProperty("calls").GetInt64());
            }
            else
            {
                Assert.False(page.RootElement.TryGetProperty("totals", out _));
            }

            cursor = page.RootElement.TryGetProperty("nextCursor", out var next) ? next.GetString() : null;
            Assert.True(sizes.Count <= 20, "Paging does not end.");
        }
        while (cursor is not null);

        return (sizes, ids, calls);
    }

    private static List<UsageRecord> Records(string keyId, int count, DateTimeOffset now) =>
        Enumerable.Range(0, count).Select(i => new UsageRecord
        {
            RequestId = $"req_{keyId[^6..]}{i:D6}",
            KeyId = keyId,
            Endpoint = "messages",
            StartedAt = now.AddSeconds(-count + i),
            Model = i % 2 == 0 ? "model-a" : "model-b",
            State = UsageState.Complete,
            OutputTokens = i,
        }).ToList();

    private static HttpClient Admin(GatewayScenario scenario)
    {
        var client = scenario.Http();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayTestEnvironment.AdminKey);
        return client;
    }
}
