using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>Statements from the admin API, JSON and CSV, equal to the sum of the usage records they cover.</summary>
public sealed class StatementTests
{
    [Fact]
    public async Task Statement_JsonAndCsv_EqualTheSumOfTheUsageRecords()
    {
        // Arrange: priced and unpriced models, whole answers and streams, every kind of token, a refused call.
        await using var cluster = await GatewayCluster.StartAsync(2, CostFixtureTests.AllFakeModelsPriced);
        var (secret, key) = await cluster.Environment.CreateKeyAsync(models: ["fake-*", "unpriced-*"]);
        var calls = new[]
        {
            RawClient.Body(FakeAnthropicUpstream.Models.Text),
            RawClient.Body(FakeAnthropicUpstream.Models.Text, stream: true),
            RawClient.Body(FakeAnthropicUpstream.Models.ToolUse),
            RawClient.Body(FakeAnthropicUpstream.Models.Thinking, stream: true),
            RawClient.Body(FakeAnthropicUpstream.Models.MidStreamError, stream: true),
            RawClient.Body(FakeAnthropicUpstream.Models.BadRequest),
            RawClient.Body("unpriced-model"),
        };
        for (var i = 0; i < calls.Length; i++)
        {
            using var http = cluster.Http(i);
            using var response = await http.SendAsync(RawClient.Messages(secret, calls[i]));
            await response.Content.ReadAsStringAsync();
        }

        await cluster.WaitForIdleAsync();
        var records = await cluster.WaitForRecordsAsync(key.Id, calls.Length);
        using var admin = cluster.Http(0);
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayTestEnvironment.AdminKey);

        // Act
        var json = await admin.GetStringAsync($"manage/keys/{key.Id}/statement");
        using var csvResponse = await admin.GetAsync($"manage/keys/{key.Id}/statement?format=csv");
        var csv = await csvResponse.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(json);
        var statement = document.RootElement;

        // Assert: totals = sum of records.
        Assert.Equal(calls.Length, records.Count);
        var totals = statement.GetProperty("totals");
        var tokens = records.Select(BillableTokens.From).ToArray();
        Assert.Equal(records.Count, totals.GetProperty("calls").GetInt64());
        Assert.Equal(tokens.Sum(static t => t.Input), totals.GetProperty("inputTokens").GetInt64());
        Assert.Equal(tokens.Sum(static t => t.Output), totals.GetProperty("outputTokens").GetInt64());
        Assert.Equal(tokens.Sum(static t => t.CacheWrite5m), totals.GetProperty("cacheWrite5mTokens").GetInt64());
        Assert.Equal(tokens.Sum(static t => t.CacheWrite1h), totals.GetProperty("cacheWrite1hTokens").GetInt64());
        Assert.Equal(tokens.Sum(static t => t.CacheRead), totals.GetProperty("cacheReadTokens").GetInt64());
        Assert.Equal(records.Sum(static r => r.Cost ?? 0), totals.GetProperty("cost").GetProperty("EUR").GetDecimal());
        Assert.Equal(1, totals.GetProperty("unpricedCalls").GetInt64());
        Assert.True(tokens.Sum(static t => t.CacheWrite1h) > 0 && tokens.Sum(static t => t.CacheRead) > 0);
        Assert.Equal(["test-prices-2"], statement.GetProperty("priceVersions").EnumerateArray().Select(static v => v.GetString()));

        // Lines = sum of the records of their day and model.
        var lines = statement.GetProperty("lines").EnumerateArray().ToArray();
        foreach (var group in records.GroupBy(static r => (Day: r.StartedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), Model: r.Model ?? "")))
        {
            var line = Assert.Single(lines, l => l.GetProperty("day").GetString() == group.Key.Day && l.GetProperty("model").GetString() == group.Key.Model);
            Assert.Equal(group.Count(), line.GetProperty("calls").GetInt64());
            Assert.Equal(group.Sum(static r => r.Cost ?? 0), line.GetProperty("cost").GetDecimal());
            Assert.Equal(group.Sum(static r => r.OutputTokens), line.GetProperty("outputTokens").GetInt64());
        }

        // CSV: the same lines.
        Assert.Equal(HttpStatusCode.OK, csvResponse.StatusCode);
        Assert.Equal("text/csv", csvResponse.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("attachment;", csvResponse.Content.Headers.ContentDisposition?.ToString() ?? "", StringComparison.Ordinal);
        var rows = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(StatementCsv.Header, rows[0]);
        Assert.Equal(lines.Length, rows.Length - 1);
        var csvCost = rows.Skip(1).Sum(static r => decimal.Parse(r.Split(',')[10], CultureInfo.InvariantCulture));
        Assert.Equal(records.Sum(static r => r.Cost ?? 0), csvCost);
        var csvCalls = rows.Skip(1).Sum(static r => long.Parse(r.Split(',')[4], CultureInfo.InvariantCulture));
        Assert.Equal(records.Count, csvCalls);
    }

    [Fact]
    public async Task Statement_CoversOnlyItsRange_AndChecksItsQuery()
    {
        // Arrange
        await using var cluster = await GatewayCluster.StartAsync(1, CostFixtureTests.AllFakeModelsPriced);
        var (secret, key) = await cluster.Environment.CreateKeyAsync();
        using (var http = cluster.Http(0))
        {
            using var response = await http.SendAsync(RawClient.Messages(secret, RawClient.Body(FakeAnthropicUpstream.Models.Text)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await cluster.WaitForRecordsAsync(key.Id, 1);
        using var admin = cluster.Http(0);
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayTestEnvironment.AdminKey);

        // Act
        var lastYear = await admin.GetStringAsync($"manage/keys/{key.Id}/statement?period={DateTimeOffset.UtcNow.AddYears(-1):yyyy-MM}");
        var today = await admin.GetStringAsync($"manage/keys/{key.Id}/statement?from={DateTimeOffset.UtcNow:yyyy-MM-dd}&to={DateTimeOffset.UtcNow.AddDays(1):yyyy-MM-dd}");
        using var badFormat = await admin.GetAsync($"manage/keys/{key.Id}/statement?format=xml");
        using var badPeriod = await admin.GetAsync($"manage/keys/{key.Id}/statement?period=2026-13");
        using var backwards = await admin.GetAsync($"manage/keys/{key.Id}/statement?from=2026-02-01&to=2026-01-01");
        using var badId = await admin.GetAsync("manage/keys/nope/statement");
        using var noAdmin = await cluster.Http(0).GetAsync($"manage/keys/{key.Id}/statement");

        // Assert
        Assert.Contains("\"calls\":0", lastYear, StringComparison.Ordinal);
        Assert.Contains("\"calls\":1", today, StringComparison.Ordinal);
        await GatewayAssert.ErrorAsync(badFormat, 400, "invalid_request_error", "format: Input should be 'json' or 'csv'");
        await GatewayAssert.ErrorAsync(badPeriod, 400, "invalid_request_error", "period: Input should be a month, such as 2026-11");
        await GatewayAssert.ErrorAsync(backwards, 400, "invalid_request_error", "from: must be before to");
        await GatewayAssert.ErrorAsync(badId, 404, "not_found_error");
        await GatewayAssert.ErrorAsync(noAdmin, 401, "authentication_error");
    }

    [Fact]
    public void Statement_ShowsEachFileOperationOnALineOfItsOwn()
    {
        // Arrange: two uploads, a download and a message, one day.
        var builder = new StatementBuilder("key_0000000000000001", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(1));
        foreach (var (id, endpoint, model, cost) in new[]
                 {
                     ("req_1", "files.upload", (string?)null, 0.5m), ("req_2", "files.upload", null, 0.5m), ("req_3", "files.download", null, 0m),
                     ("req_4", "messages", "claude-sonnet-4-5", 0.25m),
                 })
        {
            builder.Add(new UsageRecord
            {
                RequestId = id, KeyId = "key_0000000000000001", Endpoint = endpoint, StartedAt = DateTimeOffset.UnixEpoch,
                State = UsageState.Complete, Model = model, Cost = cost, Currency = "USD", Bytes = model is null ? 1000 : null,
            });
        }

        // Act
        var statement = builder.Build();

        // Assert
        Assert.Equal([("claude-sonnet-4-5", 1L, 0.25m), ("files.download", 1L, 0m), ("files.upload", 2L, 1m)],
            statement.Lines.Select(static l => (l.Model, l.Calls, l.Cost)));
    }

    [Fact]
    public void StatementCsv_QuotesAndDefusesClientText()
    {
        // Arrange
        var builder = new StatementBuilder("key_0000000000000001", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(1));
        builder.Add(new UsageRecord
        {
            RequestId = "req_1", KeyId = "key_0000000000000001", Endpoint = "messages", StartedAt = DateTimeOffset.UnixEpoch,
            State = UsageState.Failed, Model = "=HYPERLINK(\"x\"),evil",
        });

        // Act
        var csv = StatementCsv.Write(builder.Build());

        // Assert
        Assert.Contains(",\"'=HYPERLINK(\"\"x\"\"),evil\",", csv, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\0=1+1")]
    [InlineData(" =1+1")]
    [InlineData("\t=1+1")]
    [InlineData("\r=1+1")]
    [InlineData("\n=1+1")]
    [InlineData("＝1+1")]
    [InlineData("＋1+1")]
    [InlineData("－1+1")]
    [InlineData("＠SUM(A1)")]
    [InlineData("-1+1")]
    public void StatementCsv_PrefixesACellThatCouldStartAFormula(string model)
    {
        // Arrange: characters a spreadsheet skips or folds before it reads a formula.
        var builder = new StatementBuilder("key_0000000000000001", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(1));
        builder.Add(new UsageRecord
        {
            RequestId = "req_1", KeyId = "key_0000000000000001", Endpoint = "messages", StartedAt = DateTimeOffset.UnixEpoch,
            State = UsageState.Failed, Model = model,
        });

        // Act
        var csv = StatementCsv.Write(builder.Build());
        var row = csv.Split("\r\n")[1];
        var cell = row.Split(',')[2].TrimStart('"');

        // Assert
        Assert.StartsWith("'" + model[0], cell, StringComparison.Ordinal);
    }
}
