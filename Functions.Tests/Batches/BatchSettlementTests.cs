using Microsoft.Extensions.Time.Testing;
using Qhaigc.Functions.Batches;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Usage;
using static Qhaigc.Functions.Tests.Batches.BatchBillingArrangement;

namespace Qhaigc.Functions.Tests.Batches;

/// <summary>
/// Settlement of ended batches against Azurite (real limit ledger, usage and objects tables): one record per result,
/// the reservation settled once, whatever the number of instances, runs and crashes (docs/batches.md#billing).
/// </summary>
public sealed class BatchSettlementTests
{
    private const int ResultCount = 250;

    [Fact]
    public async Task Settlement_ThreeInstancesRunRepeatedly_OneRecordPerResultOneSettleAndAStatementEqualToTheRecords()
    {
        // Arrange: a capped key's batch of 250 requests, reserved as creating it does, still in progress upstream.
        using var arrangement = await CreateAsync();
        var (_, key) = await arrangement.KeyAsync(capMicros: 1_000_000_000);
        var admission = await ReserveAsync(arrangement.Billing(), key, "msgbatch_three", Enumerable.Repeat(Request(Model, 100), ResultCount));
        Assert.True(admission.Admitted);
        await arrangement.AddBatchAsync(key.Id, "msgbatch_three", ResultLines.Mixed(ResultCount), admission.Reserved, [Model], status: "in_progress");
        var instances = new[] { arrangement.Settlement(), arrangement.Settlement(), arrangement.Settlement() };

        // Act: every instance runs while the batch is in progress, then while it is canceling, then three times once it ended.
        var whileRunning = await Task.WhenAll(instances.Select(static s => s.RunAsync(CancellationToken.None)));
        arrangement.BatchApi.SetStatus("up_msgbatch_three", "canceling");
        await Task.WhenAll(instances.Select(static s => s.RunAsync(CancellationToken.None)));
        var canceling = BatchStates.Read((await arrangement.BatchAsync(key.Id, "msgbatch_three")).State);
        arrangement.BatchApi.SetStatus("up_msgbatch_three", "ended");
        var settledRuns = new List<int>();
        for (var round = 0; round < 3; round++)
        {
            settledRuns.AddRange(await Task.WhenAll(instances.Select(static s => s.RunAsync(CancellationToken.None))));
        }

        // Assert: nothing billed before the end; then one record per result, one settlement, a statement equal to the records.
        Assert.All(whileRunning, static settled => Assert.Equal(0, settled));
        Assert.Equal("canceling", canceling.ProcessingStatus);
        Assert.Null(canceling.SettledAt);
        Assert.Equal(1, settledRuns.Sum());
        var records = await RecordsAsync(arrangement, key.Id);
        Assert.Equal(ResultCount, records.Count);
        Assert.Equal(ResultCount, records.Select(static r => r.RequestId).Distinct().Count());
        Assert.All(records, static r =>
        {
            Assert.Equal(BatchSettlement.Endpoint, r.Endpoint);
            Assert.Equal("msgbatch_three", r.BatchId);
            Assert.DoesNotContain("cust-", r.RequestId, StringComparison.Ordinal);
            Assert.DoesNotContain(BatchBillingArrangement.ResultLines.AnswerText, r.RawUsage ?? "", StringComparison.Ordinal);
            Assert.DoesNotContain("cust-", r.RawUsage ?? "", StringComparison.Ordinal);
        });
        var totalMicros = records.Sum(static r => Money.ToMicros(r.Cost ?? 0));
        Assert.True(totalMicros > 0);
        var spend = await arrangement.SpendAsync(key.Id);
        Assert.Equal(totalMicros, spend!.SpentMicros);
        Assert.Equal(0, spend.ReservedMicros);
        Assert.Null(await arrangement.LimitsRowAsync<HoldEntity>(key.Id, HoldEntity.RowFor("msgbatch_three")));
        Assert.Equal(totalMicros, (await arrangement.LimitsRowAsync<SettledEntity>(key.Id, SettledEntity.RowFor("msgbatch_three")))!.CostMicros);
        var statement = await StatementBuilder.BuildAsync(arrangement.Environment.Usage, key.Id, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), CancellationToken.None);
        Assert.Equal(ResultCount, statement.Totals.Calls);
        Assert.Equal(Money.FromMicros(totalMicros), statement.Totals.Cost["EUR"]);
        Assert.Equal(records.Sum(static r => r.InputTokens), statement.Totals.InputTokens);
        Assert.Equal(records.Sum(static r => r.OutputTokens), statement.Totals.OutputTokens);
        var batch = await arrangement.BatchAsync(key.Id, "msgbatch_three");
        var state = BatchStates.Read(batch.State);
        Assert.False(batch.Pending);
        Assert.NotNull(state.SettledAt);
        Assert.Equal(ResultCount, state.ResultsRecorded);
        Assert.Equal("ended", state.ProcessingStatus);
        Assert.Empty(await PendingAsync(arrangement));
    }

    [Fact]
    public async Task Settlement_KilledHalfWayAndRerun_LeavesNoDuplicateAndExactTotals()
    {
        // Arrange: the results stream breaks after 230 of 250 lines on the first run.
        using var arrangement = await CreateAsync();
        var (_, key) = await arrangement.KeyAsync(capMicros: 1_000_000_000);
        var admission = await ReserveAsync(arrangement.Billing(), key, "msgbatch_killed", Enumerable.Repeat(Request(Model, 100), ResultCount));
        await arrangement.AddBatchAsync(key.Id, "msgbatch_killed", ResultLines.Mixed(ResultCount), admission.Reserved, [Model]);
        arrangement.BatchApi.FailAfterLines = 230;

        // Act
        var killed = await arrangement.Settlement().RunAsync(CancellationToken.None);
        var halfWay = await arrangement.BatchAsync(key.Id, "msgbatch_killed");
        var recordsHalfWay = await RecordsAsync(arrangement, key.Id);
        var spendHalfWay = await arrangement.SpendAsync(key.Id);
        arrangement.BatchApi.FailAfterLines = null;
        var rerun = await arrangement.Settlement().RunAsync(CancellationToken.None);
        var again = await arrangement.Settlement().RunAsync(CancellationToken.None);

        // Assert: the first run recorded two groups of 100 and settled nothing; the rerun resumed and settled once.
        Assert.Equal(0, killed);
        Assert.True(halfWay.Pending);
        Assert.Equal(200, BatchStates.Read(halfWay.State).ResultsRecorded);
        Assert.Equal(200, recordsHalfWay.Count);
        Assert.Equal(0, spendHalfWay!.SpentMicros);
        Assert.Equal(admission.Reserved!.ReservedMicros, spendHalfWay.ReservedMicros);
        Assert.Equal(1, rerun);
        Assert.Equal(0, again);
        var records = await RecordsAsync(arrangement, key.Id);
        Assert.Equal(ResultCount, records.Count);
        Assert.Equal(ResultCount, records.Select(static r => r.RequestId).Distinct().Count());
        var spend = await arrangement.SpendAsync(key.Id);
        Assert.Equal(records.Sum(static r => Money.ToMicros(r.Cost ?? 0)), spend!.SpentMicros);
        Assert.Equal(0, spend.ReservedMicros);
    }

    [Fact]
    public async Task Settlement_CrashBetweenLedgerSettleAndMark_SettlesTheLedgerOnce()
    {
        // Arrange: the objects table fails the write that marks the batch settled, once: after the ledger settled it.
        using var arrangement = await CreateAsync();
        var (_, key) = await arrangement.KeyAsync(capMicros: 1_000_000_000);
        var admission = await ReserveAsync(arrangement.Billing(), key, "msgbatch_crash", Enumerable.Repeat(Request(Model, 100), 20));
        await arrangement.AddBatchAsync(key.Id, "msgbatch_crash", ResultLines.Mixed(20), admission.Reserved, [Model]);
        var crashing = new CrashOnSettledMark(arrangement.Environment.Objects);

        // Act
        var crashed = await arrangement.Settlement(crashing).RunAsync(CancellationToken.None);
        var spendAfterCrash = await arrangement.SpendAsync(key.Id);
        var rerun = await arrangement.Settlement().RunAsync(CancellationToken.None);

        // Assert: the rerun finds the settlement done and only marks the batch; the spend holds the cost once.
        Assert.Equal(0, crashed);
        Assert.Equal(1, crashing.Crashes);
        Assert.Equal(1, rerun);
        var records = await RecordsAsync(arrangement, key.Id);
        var total = records.Sum(static r => Money.ToMicros(r.Cost ?? 0));
        Assert.Equal(total, spendAfterCrash!.SpentMicros);
        var spend = await arrangement.SpendAsync(key.Id);
        Assert.Equal(total, spend!.SpentMicros);
        Assert.Equal(0, spend.ReservedMicros);
        Assert.False((await arrangement.BatchAsync(key.Id, "msgbatch_crash")).Pending);
    }

    [Fact]
    public async Task Settlement_PricesEachResultAtBatchPrices_CacheTokensServerToolsAndAPerModelOverride()
    {
        // Arrange: one batch over two models (the second reported under a dated id), every kind of token, web searches,
        // and results that failed, were canceled or expired.
        using var arrangement = await CreateAsync();
        var (_, key) = await arrangement.KeyAsync(capMicros: 1_000_000_000);
        var requests = new[] { Request(Model, 4000, ""","tools":[{"type":"web_search_20250305","name":"web_search","max_uses":3}]"""), Request(CheapModel, 100), Request(Model, 100), Request(Model, 100), Request(Model, 100) };
        var admission = await ReserveAsync(arrangement.Billing(), key, "msgbatch_costs", requests);
        const string fullUsage = """
            {"input_tokens":1000,"output_tokens":2000,"cache_creation_input_tokens":3000,"cache_read_input_tokens":4000,
             "cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":2000},
             "server_tool_use":{"web_search_requests":3},"service_tier":"batch"}
            """;
        await arrangement.AddBatchAsync(key.Id, "msgbatch_costs",
        [
            ResultLines.Succeeded("a", Model, fullUsage.ReplaceLineEndings("")),
            ResultLines.Succeeded("b", CheapModel + "-20260101", ResultLines.Usage(100, 50)),
            ResultLines.Errored("c", "overloaded_error"),
            ResultLines.Canceled("d"),
            ResultLines.Expired("e"),
        ], admission.Reserved, [Model, CheapModel]);

        // Act
        var settled = await arrangement.Settlement().RunAsync(CancellationToken.None);

        // Assert: batch prices are half of 3 / 15 / 3.75 / 6 / 0.30, web searches at their full 10 per 1,000 (the
        // reported service_tier "batch" is not applied again); the cheap model at its own 0.25 of 2 / 8.
        Assert.Equal(1, settled);
        var records = (await RecordsAsync(arrangement, key.Id)).ToDictionary(static r => r.RequestId);
        var full = records[BatchSettlement.RequestId("msgbatch_costs", 0)];
        Assert.Equal((1000 * 1.5m) + (2000 * 7.5m) + (1000 * 1.875m) + (2000 * 3m) + (4000 * 0.15m) + (3 * 10_000m), Money.ToMicros(full.Cost!.Value));
        Assert.Equal(200, full.Status);
        Assert.Equal(UsageState.Complete, full.State);
        Assert.Equal(Model, full.UpstreamModel);
        Assert.Equal("msg_a", full.UpstreamRequestId);
        Assert.Equal(3, full.WebSearchRequests);
        Assert.Equal(1000, full.CacheCreation5mInputTokens);
        Assert.Equal(2000, full.CacheCreation1hInputTokens);
        Assert.Equal(4000, full.CacheReadInputTokens);
        Assert.Equal("EUR", full.Currency);
        Assert.Equal("batch-test", full.PriceVersion);
        Assert.Equal("batch", full.ServiceTier);
        var cheap = records[BatchSettlement.RequestId("msgbatch_costs", 1)];
        Assert.Equal((100 * 0.5m) + (50 * 2m), Money.ToMicros(cheap.Cost!.Value));
        Assert.Equal(CheapModel, cheap.UpstreamModel);
        var errored = records[BatchSettlement.RequestId("msgbatch_costs", 2)];
        Assert.Equal(529, errored.Status);
        Assert.Equal(UsageState.Failed, errored.State);
        Assert.Equal("overloaded_error", errored.ErrorType);
        Assert.Equal(0m, errored.Cost);
        var canceled = records[BatchSettlement.RequestId("msgbatch_costs", 3)];
        Assert.Equal(499, canceled.Status);
        Assert.Equal(UsageState.Cancelled, canceled.State);
        Assert.Equal("canceled", canceled.ErrorType);
        Assert.Equal(0m, canceled.Cost);
        var expired = records[BatchSettlement.RequestId("msgbatch_costs", 4)];
        Assert.Equal(504, expired.Status);
        Assert.Equal(UsageState.Failed, expired.State);
        Assert.Equal("expired", expired.ErrorType);
        Assert.Equal(0m, expired.Cost);

        // What the canceled and expired requests reserved is given back: only the results' cost stays.
        var spend = await arrangement.SpendAsync(key.Id);
        Assert.Equal(54_975 + 150, spend!.SpentMicros);
        Assert.Equal(0, spend.ReservedMicros);
        Assert.True(admission.Reserved!.ReservedMicros > spend.SpentMicros);
    }

    [Fact]
    public async Task Settlement_ResultUnderAModelNameNoneOfTheBatchsMatch_IsPricedAtTheDearestOfThem()
    {
        // Arrange: a batch of two models whose result names a third, unpriced model.
        using var arrangement = await CreateAsync();
        var (_, key) = await arrangement.KeyAsync(capMicros: 1_000_000_000);
        var admission = await ReserveAsync(arrangement.Billing(), key, "msgbatch_renamed", [Request(Model, 100), Request(CheapModel, 100)]);
        await arrangement.AddBatchAsync(key.Id, "msgbatch_renamed",
            [ResultLines.Succeeded("a", "some-unpriced-model", ResultLines.Usage(100, 50))], admission.Reserved, [Model, CheapModel]);

        // Act
        await arrangement.Settlement().RunAsync(CancellationToken.None);

        // Assert: at the dearer model's batch prices (half of 3 / 15), not at nothing.
        var record = Assert.Single(await RecordsAsync(arrangement, key.Id));
        Assert.Equal((100 * 1.5m) + (50 * 7.5m), Money.ToMicros(record.Cost!.Value));
        Assert.Equal(Model, record.UpstreamModel);
        Assert.Equal((100 * 1.5m) + (50 * 7.5m), (await arrangement.SpendAsync(key.Id))!.SpentMicros);
    }

    [Fact]
    public async Task Settlement_DeletedKey_IsStillSettled()
    {
        // Arrange
        using var arrangement = await CreateAsync();
        var (_, key) = await arrangement.KeyAsync(capMicros: 1_000_000_000);
        var admission = await ReserveAsync(arrangement.Billing(), key, "msgbatch_orphan", Enumerable.Repeat(Request(Model, 100), 12));
        await arrangement.AddBatchAsync(key.Id, "msgbatch_orphan", ResultLines.Mixed(12), admission.Reserved, [Model]);
        Assert.True(await arrangement.Environment.Keys.DeleteAsync(key.Id, CancellationToken.None));

        // Act
        var settled = await arrangement.Settlement().RunAsync(CancellationToken.None);

        // Assert
        Assert.Equal(1, settled);
        var records = await RecordsAsync(arrangement, key.Id);
        Assert.Equal(12, records.Count);
        Assert.Equal(records.Sum(static r => Money.ToMicros(r.Cost ?? 0)), (await arrangement.SpendAsync(key.Id))!.SpentMicros);
    }

    [Fact]
    public async Task Settlement_BatchTheUpstreamNoLongerKnows_IsBilledAtItsReservation()
    {
        // Arrange: the batch is gone upstream before its results were read (deleted, or lost): they never will be.
        using var arrangement = await CreateAsync();
        var (_, key) = await arrangement.KeyAsync(capMicros: 1_000_000_000);
        var admission = await ReserveAsync(arrangement.Billing(), key, "msgbatch_gone", Enumerable.Repeat(Request(Model, 100), 3));
        await arrangement.AddBatchAsync(key.Id, "msgbatch_gone", ResultLines.Mixed(3), admission.Reserved, [Model]);
        arrangement.BatchApi.Forget("up_msgbatch_gone");

        // Act: seen gone once, then again after the grace (none here).
        var first = await arrangement.Settlement().RunAsync(CancellationToken.None);
        var settled = await arrangement.Settlement().RunAsync(CancellationToken.None);

        // Assert
        Assert.Equal((0, 1), (first, settled));
        var record = Assert.Single(await RecordsAsync(arrangement, key.Id));
        Assert.True(record.Estimated);
        Assert.Equal(admission.Reserved!.ReservedMicros, Money.ToMicros(record.Cost!.Value));
        Assert.Equal(admission.Reserved.ReservedMicros, (await arrangement.SpendAsync(key.Id))!.SpentMicros);
    }

    [Fact]
    public async Task Settlement_ABatchTheUpstreamForgetsForAWhile_IsNotBilledAsGone_BeforeTheGraceHasPassed()
    {
        // Arrange: the upstream stops knowing the batch (a key of another workspace put in by mistake, say), then knows
        // it again; a second batch stays unknown.
        using var arrangement = await CreateAsync();
        var (_, key) = await arrangement.KeyAsync(capMicros: 1_000_000_000);
        var back = await ReserveAsync(arrangement.Billing(), key, "msgbatch_back", Enumerable.Repeat(Request(Model, 100), 3));
        await arrangement.AddBatchAsync(key.Id, "msgbatch_back", ResultLines.Mixed(3), back.Reserved, [Model]);
        var lost = await ReserveAsync(arrangement.Billing(), key, "msgbatch_lost", Enumerable.Repeat(Request(Model, 100), 3));
        await arrangement.AddBatchAsync(key.Id, "msgbatch_lost", ResultLines.Mixed(3), lost.Reserved, [Model]);
        arrangement.BatchApi.Forget("up_msgbatch_back");
        arrangement.BatchApi.Forget("up_msgbatch_lost");
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var settlement = arrangement.Settlement(time: time, goneAfter: TimeSpan.FromHours(24));

        // Act
        var runs = new List<int> { await settlement.RunAsync(CancellationToken.None) };
        time.Advance(TimeSpan.FromHours(23));
        runs.Add(await settlement.RunAsync(CancellationToken.None));
        var beforeGrace = await RecordsAsync(arrangement, key.Id);
        arrangement.BatchApi.Remember("up_msgbatch_back");
        time.Advance(TimeSpan.FromHours(2));
        runs.Add(await settlement.RunAsync(CancellationToken.None));

        // Assert: nothing billed within the grace; the batch that came back is billed by its results, the lost one at
        // its reservation.
        Assert.Equal([0, 0, 2], runs);
        Assert.Empty(beforeGrace);
        var records = await RecordsAsync(arrangement, key.Id);
        Assert.Equal(3, records.Count(static r => r.BatchId == "msgbatch_back"));
        Assert.All(records.Where(static r => r.BatchId == "msgbatch_back"), static r => Assert.False(r.Estimated));
        var gone = Assert.Single(records, static r => r.BatchId == "msgbatch_lost");
        Assert.True(gone.Estimated);
        Assert.Equal(lost.Reserved!.ReservedMicros, Money.ToMicros(gone.Cost!.Value));
    }

    private static async Task<List<UsageRecord>> RecordsAsync(BatchBillingArrangement arrangement, string keyId)
    {
        var records = new List<UsageRecord>();
        await foreach (var record in arrangement.Environment.Usage.QueryAsync(keyId, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), CancellationToken.None))
        {
            records.Add(record);
        }

        return records;
    }

    private static async Task<List<OwnedObject>> PendingAsync(BatchBillingArrangement arrangement)
    {
        var pending = new List<OwnedObject>();
        await foreach (var batch in arrangement.Environment.Objects.PendingAsync(OwnedKinds.Batch, CancellationToken.None))
        {
            pending.Add(batch);
        }

        return pending;
    }

    /// <summary>The objects table, but the first write that marks a batch settled fails, as if the instance died there.</summary>
    private sealed class CrashOnSettledMark(IOwnedObjectStore inner) : IOwnedObjectStore
    {
        public int Crashes { get; private set; }

        public Task<OwnedObject?> ReplaceAsync(OwnedObject owned, CancellationToken cancellationToken)
        {
            if (!owned.Pending && Crashes == 0)
            {
                Crashes++;
                throw new IOException("The instance stopped.");
            }

            return inner.ReplaceAsync(owned, cancellationToken);
        }

        public Task<bool> AddAsync(OwnedObject owned, CancellationToken cancellationToken) => inner.AddAsync(owned, cancellationToken);

        public Task<OwnedAdd> AddFileAsync(OwnedObject file, FileQuota quota, CancellationToken cancellationToken) =>
            inner.AddFileAsync(file, quota, cancellationToken);

        public Task<FileHoldings> FileHoldingsAsync(string ownerKeyId, CancellationToken cancellationToken) => inner.FileHoldingsAsync(ownerKeyId, cancellationToken);

        public Task<OwnedObject?> FindAsync(string ownerKeyId, string kind, string id, CancellationToken cancellationToken) =>
            inner.FindAsync(ownerKeyId, kind, id, cancellationToken);

        public Task<OwnedPage?> ListAsync(string ownerKeyId, string kind, int limit, string? beforeId, string? afterId, CancellationToken cancellationToken) =>
            inner.ListAsync(ownerKeyId, kind, limit, beforeId, afterId, cancellationToken);

        public Task<bool> RemoveAsync(string ownerKeyId, string kind, string id, CancellationToken cancellationToken) =>
            inner.RemoveAsync(ownerKeyId, kind, id, cancellationToken);

        public IAsyncEnumerable<OwnedObject> PendingAsync(string kind, CancellationToken cancellationToken) => inner.PendingAsync(kind, cancellationToken);

        public IAsyncEnumerable<OwnedObject> OwnedByAsync(string ownerKeyId, string kind, CancellationToken cancellationToken) =>
            inner.OwnedByAsync(ownerKeyId, kind, cancellationToken);
    }
}
