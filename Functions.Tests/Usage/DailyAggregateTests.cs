using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Usage;

/// <summary>
/// The daily aggregates the usage table keeps as records are written (docs/console.md#daily-aggregates), against a real
/// Azurite: several store instances (as several gateway instances) writing the same keys at once, retried writes and
/// replaced records, and the aggregates read straight from the table compared with the records and the statement.
/// </summary>
public sealed class DailyAggregateTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 22, 0, 0, TimeSpan.Zero);
    private static readonly string[] Keys = ["key_00000000000agg01", "key_00000000000agg02"];
    private static readonly string[] Models = ["claude-sonnet-4-5", "claude-haiku-4-5", "org/model'quoted"];

    [Fact]
    public async Task Aggregates_EqualRecordsAndStatement_AfterConcurrentRetriedAndReplacedWritesFromSeveralInstances()
    {
        // Arrange: four instances over the same tables; 600 records over two keys, three UTC days and three models
        // (priced, unpriced, failed, estimated), each written by two instances (a retry elsewhere), in batches, all at once.
        var environment = await GatewayTestEnvironment.CreateAsync();
        var instances = Enumerable.Range(0, 4).Select(_ => Instance(environment)).ToArray();
        var random = new Random(18);
        var records = Enumerable.Range(0, 600).Select(i => Record(random, i)).ToList();
        var writes = new List<Task>();
        foreach (var (instance, index) in instances.Select(static (s, i) => (s, i)))
        {
            var mine = records.Where((_, i) => i % 4 == index || i % 4 == (index + 1) % 4).OrderBy(_ => random.Next()).ToList();
            writes.Add(Task.Run(async () =>
            {
                foreach (var batch in mine.Chunk(37))
                {
                    await instance.WriteBatchAsync(batch, CancellationToken.None);
                }
            }));
        }

        await Task.WhenAll(writes);

        // Act: a sixth of them replaced (an estimated record completed: other tokens, cost, state), again from two
        // instances at once; then every record of the range written once more (a whole retry).
        var replaced = records.Where((_, i) => i % 6 == 0).Select(r => r with
        {
            OutputTokens = r.OutputTokens + 1000, Estimated = false, State = UsageState.Complete, Status = 200,
            Cost = r.Cost is null ? null : r.Cost + 0.000123m,
        }).ToList();
        await Task.WhenAll(
            instances[1].WriteBatchAsync(replaced, CancellationToken.None),
            instances[2].WriteBatchAsync(replaced, CancellationToken.None),
            Task.Run(() => instances[3].WriteBatchAsync(replaced.Take(50).ToList(), CancellationToken.None)));
        var final = records.Select(r => replaced.FirstOrDefault(x => x.RequestId == r.RequestId) ?? r).ToList();
        foreach (var batch in final.Chunk(50))
        {
            await instances[0].WriteBatchAsync(batch, CancellationToken.None);
        }

        // Assert: per key, the aggregate rows as the table holds them equal the sums of the records written and of the
        // records the table holds, field by field, and every statement line.
        foreach (var keyId in Keys)
        {
            var stored = await environment.AllUsageAsync(keyId);
            Assert.Equal(final.Count(r => r.KeyId == keyId), stored.Count);
            var expected = DailyUsage.Sum(final.Where(r => r.KeyId == keyId));
            var aggregates = await AggregateRowsAsync(environment, keyId);
            Assert.Equal(expected, aggregates);
            Assert.Equal(DailyUsage.Sum(stored), aggregates);
            Assert.Equal(expected, await ReadDailyAsync(instances[3], keyId));

            var statement = await StatementBuilder.BuildAsync(environment.Usage, keyId, Start.AddDays(-1), Start.AddDays(4), CancellationToken.None);
            Assert.Equal(statement.Lines.Count, aggregates.Count);
            foreach (var line in statement.Lines)
            {
                var day = Assert.Single(aggregates, a => a.Day == line.Day && a.Model == line.Model && a.Currency == (line.Currency ?? ""));
                Assert.Equal(
                    (line.Calls, line.InputTokens, line.OutputTokens, line.CacheWrite5mTokens, line.CacheWrite1hTokens, line.CacheReadTokens,
                        line.WebSearchRequests, line.WebFetchRequests, Money.ToMicros(line.Cost), line.UnpricedCalls, line.EstimatedCalls),
                    (day.Calls, day.InputTokens, day.OutputTokens, day.CacheWrite5mTokens, day.CacheWrite1hTokens, day.CacheReadTokens,
                        day.WebSearchRequests, day.WebFetchRequests, day.CostMicros, day.UnpricedCalls, day.EstimatedCalls));
            }
        }
    }

    [Fact]
    public async Task WriteAsync_CountsARecordOnce_WhenWrittenAgainAndTakesBackItsOldValues_WhenReplaced()
    {
        // Arrange
        var environment = await GatewayTestEnvironment.CreateAsync();
        var record = Record(new Random(1), 0) with { KeyId = Keys[0], Model = "claude-sonnet-4-5", OutputTokens = 10, Estimated = true };

        // Act: written three times, then completed with other numbers and another model's name.
        await environment.Usage.WriteAsync(record, CancellationToken.None);
        await environment.Usage.WriteAsync(record, CancellationToken.None);
        await environment.Usage.WriteBatchAsync([record], CancellationToken.None);
        var once = await AggregateRowsAsync(environment, Keys[0]);
        var completed = record with { OutputTokens = 25, Estimated = false, Model = "claude-haiku-4-5" };
        await environment.Usage.WriteAsync(completed, CancellationToken.None);
        var after = await AggregateRowsAsync(environment, Keys[0]);

        // Assert: one call while it was the same record; then the old model's row back at zero (not listed) and the new one holds it.
        Assert.Equal(DailyUsage.Sum([record]), once);
        Assert.Equal(DailyUsage.Sum([completed]), after.Where(static a => a.Calls != 0));
    }

    [Fact]
    public async Task DailyAsync_ReadsOnlyTheAggregatesOfTheDaysAsked_NotTheRecords()
    {
        // Arrange: records on three days; a record range query never returns an aggregate row.
        var environment = await GatewayTestEnvironment.CreateAsync();
        var random = new Random(3);
        var records = Enumerable.Range(0, 30).Select(i => Record(random, i) with { KeyId = Keys[1] }).ToList();
        await environment.Usage.WriteBatchAsync(records, CancellationToken.None);

        // Act
        var secondDay = DateOnly.FromDateTime(Start.UtcDateTime).AddDays(1);
        var daily = await ReadDailyAsync(environment.Usage, Keys[1], secondDay, secondDay.AddDays(1));
        var ranged = new List<UsageRecord>();
        await foreach (var record in environment.Usage.QueryAsync(Keys[1], DateTimeOffset.MinValue, DateTimeOffset.MaxValue, CancellationToken.None))
        {
            ranged.Add(record);
        }

        // Assert
        Assert.Equal(DailyUsage.Sum(records.Where(r => DailyUsage.DayOf(r.StartedAt) == secondDay.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture))), daily);
        Assert.Equal(records.Count, ranged.Count);
    }

    private static TableUsageStore Instance(GatewayTestEnvironment environment) => new(new GatewayTables(
        Options.Create(new GatewayOptions
        {
            Storage = new StorageOptions
            {
                ConnectionString = environment.Azurite.ConnectionString, KeysTable = environment.KeysTable, UsageTable = environment.UsageTable,
                LimitsTable = environment.LimitsTable, ObjectsTable = environment.ObjectsTable,
            },
        }),
        new ConfigurationBuilder().Build()));

    private static UsageRecord Record(Random random, int i)
    {
        var priced = i % 5 != 0;
        var failed = i % 7 == 0;
        return new UsageRecord
        {
            RequestId = $"req_agg{i:D6}",
            KeyId = Keys[i % Keys.Length],
            Endpoint = "messages",
            StartedAt = Start.AddMinutes(random.Next(0, 3 * 24 * 60)).AddTicks(i),
            Model = Models[random.Next(Models.Length)],
            Status = failed ? 529 : i % 11 == 0 ? 499 : 200,
            State = failed ? UsageState.Failed : i % 13 == 0 ? UsageState.Truncated : UsageState.Complete,
            InputTokens = failed ? 0 : random.Next(1, 100_000),
            OutputTokens = failed ? 0 : random.Next(1, 5_000),
            CacheCreationInputTokens = i % 3 == 0 ? 300 : 0,
            CacheCreation5mInputTokens = i % 3 == 0 ? 100 : null,
            CacheCreation1hInputTokens = i % 3 == 0 ? 200 : null,
            CacheReadInputTokens = random.Next(0, 10_000),
            WebSearchRequests = i % 4 == 0 ? 2 : null,
            WebFetchRequests = i % 8 == 0 ? 1 : null,
            Estimated = i % 9 == 0,
            Cost = priced ? random.Next(1, 5_000_000) / 1_000_000m : null,
            Currency = priced ? "USD" : null,
            PriceVersion = priced ? "2026-11" : null,
        };
    }

    /// <summary>The key's aggregate rows as the table holds them, not as any store computes them.</summary>
    private static async Task<List<DailyUsage>> AggregateRowsAsync(GatewayTestEnvironment environment, string keyId)
    {
        var table = new TableClient(environment.Azurite.ConnectionString, environment.UsageTable);
        var rows = new List<DailyUsage>();
        await foreach (var row in table.QueryAsync<DailyUsageEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {keyId} and RowKey ge {DailyUsageEntity.RowKeyPrefix}")))
        {
            rows.Add(row.ToUsage());
        }

        return [.. rows.OrderBy(static d => d.Day, StringComparer.Ordinal).ThenBy(static d => d.Model, StringComparer.Ordinal)
            .ThenBy(static d => d.Currency, StringComparer.Ordinal)];
    }

    private static Task<List<DailyUsage>> ReadDailyAsync(IUsageStore store, string keyId) =>
        ReadDailyAsync(store, keyId, DateOnly.FromDateTime(Start.UtcDateTime).AddDays(-1), DateOnly.FromDateTime(Start.UtcDateTime).AddDays(5));

    private static async Task<List<DailyUsage>> ReadDailyAsync(IUsageStore store, string keyId, DateOnly from, DateOnly to)
    {
        var rows = new List<DailyUsage>();
        await foreach (var row in store.DailyAsync(keyId, from, to, CancellationToken.None))
        {
            rows.Add(row);
        }

        return rows;
    }
}
