using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Batches;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Tests.Infrastructure;
using static Qhaigc.Functions.Tests.Batches.BatchBillingArrangement;

namespace Qhaigc.Functions.Tests.Batches;

/// <summary>
/// What creating a batch reserves (docs/batches.md#billing): each request's worst case as a call's, at batch prices,
/// reserved atomically against the spend cap in the real limit ledger (Azurite), for as long as a batch can run.
/// </summary>
public sealed class BatchBillingTests
{
    [Fact]
    public async Task ReserveAsync_ConcurrentBatchesOnThreeInstances_AdmitExactlyThoseThatFit()
    {
        // Arrange: nine batches of the same worst case W against a cap of 4.5 W, through three instances. The key also
        // has a tokens-per-minute limit that any batch's tokens would exceed: batches are not counted in it.
        using var arrangement = await CreateAsync();
        var requests = Enumerable.Repeat(Request(Model, 1000), 20).ToArray();
        var (_, probe) = await arrangement.KeyAsync(capMicros: 1);
        var worst = Tally(arrangement.Billing(), probe, requests).WorstCaseMicros;
        var (_, key) = await arrangement.KeyAsync(capMicros: (4 * worst) + (worst / 2), extraLimits: "\"tokensPerMinute\": 10, \"requestsPerMinute\": 1000");
        var instances = new[] { arrangement.Billing(), arrangement.Billing(), arrangement.Billing() };

        // Act
        var admissions = await Task.WhenAll(Enumerable.Range(0, 9).Select(i => ReserveAsync(instances[i % 3], key, $"msgbatch_{i}", requests)));
        var spend = await arrangement.SpendAsync(key.Id);
        var window = await arrangement.LimitsRowAsync<LimitWindowEntity>(key.Id, LimitWindowEntity.Row);
        await instances[0].ReleaseAsync(admissions.First(static a => a.Admitted), CancellationToken.None);
        var afterRelease = await arrangement.SpendAsync(key.Id);

        // Assert
        Assert.True(worst > 0);
        Assert.Equal(4, admissions.Count(static a => a.Admitted));
        Assert.All(admissions.Where(static a => !a.Admitted), static a =>
        {
            Assert.Equal(402, a.Refusal!.Status);
            Assert.Equal(ErrorTypes.Billing, a.Refusal.Type);
            Assert.Contains("batch", a.Refusal.Message, StringComparison.Ordinal);
        });
        Assert.All(admissions.Where(static a => a.Admitted), a => Assert.Equal(worst, a.Reserved!.ReservedMicros));
        Assert.Equal(4 * worst, spend!.ReservedMicros);
        Assert.Equal(0, spend.SpentMicros);
        Assert.Equal((4L, 0L, 0L), (window!.Requests, window.InputTokens, window.OutputTokens));
        Assert.Equal(3 * worst, afterRelease!.ReservedMicros);
    }

    [Fact]
    public async Task ReserveAsync_HoldsTheReservationForDays_NotForACallsLease()
    {
        // Arrange
        using var arrangement = await CreateAsync();
        var (_, key) = await arrangement.KeyAsync(capMicros: 1_000_000_000);

        // Act
        var admission = await ReserveAsync(arrangement.Billing(), key, "msgbatch_long", [Request(Model, 100)]);
        var hold = await arrangement.LimitsRowAsync<HoldEntity>(key.Id, HoldEntity.RowFor("msgbatch_long"));

        // Assert: a batch runs up to 24 hours; its hold lasts the 29 days Anthropic keeps results.
        Assert.True(admission.Admitted);
        Assert.False(admission.Reserved!.Stream);
        Assert.Null(admission.Reserved.WindowStart);
        Assert.InRange(hold!.ExpiresAt, DateTimeOffset.UtcNow.AddDays(28), DateTimeOffset.UtcNow.AddDays(30));
        Assert.Equal(admission.Reserved.ReservedMicros, hold.ReservedMicros);
    }

    [Fact]
    public async Task StartTally_SumsEachRequestsCallReservation_AtBatchPrices()
    {
        // Arrange: the same requests as calls, reserved by the authorize step at standard prices.
        using var governance = new InMemoryGovernance(DateTimeOffset.UtcNow);
        var prices = PriceTableOf();
        var admission = governance.Admission(prices);
        var key = Key("""{"spendCap": 1000}""");
        string[] requests =
        [
            Request(Model, 4000),
            Request(Model, 100, ""","system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral","ttl":"1h"}}]"""),
            Request(Model, 100, ""","messages":[{"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://example.com/a.pdf"}}]}]"""),
        ];
        var tally = new BatchBilling(new GovernanceService(admission, governance.Settlements, governance.Reservations, prices), governance.Ledger,
            governance.Time, InMemoryGovernance.Options, Options.Create(new BatchSettlementOptions()), NullLogger<BatchBilling>.Instance).StartTally(key);

        // Act
        long calls = 0;
        var i = 0;
        foreach (var request in requests)
        {
            using var document = JsonDocument.Parse(request);
            Assert.Null(tally.Add(document.RootElement, Model, null));
            using var messages = new MessagesRequest(Encoding.UTF8.GetBytes(request), JsonDocument.Parse(request), Model, document.RootElement.GetProperty("max_tokens").GetInt32(), false);
            var call = await admission.AdmitAsync(key, $"req_{i++}", messages);
            calls += call.Reservation!.Reserved.ReservedMicros;
        }

        // Assert: half of each call's worst case (each rounded up to the micro-unit), the document by URL at a whole context window.
        Assert.InRange(tally.WorstCaseMicros, (calls / 2) - requests.Length, (calls / 2) + requests.Length);
        Assert.True(tally.WorstCaseMicros > 200_000 * 1.5m);
    }

    [Fact]
    public void StartTally_ServerToolUses_AreNotDiscounted()
    {
        // Arrange: a request that may run five web searches (10 per 1,000 each, 50,000 micro-units) on top of its tokens.
        using var governance = new InMemoryGovernance(DateTimeOffset.UtcNow);
        var billing = BillingOver(governance, PriceTableOf());
        var key = Key("""{"spendCap": 1000}""");
        var plain = Request(Model, 100);
        var searching = Request(Model, 100, ""","tools":[{"type":"web_search_20250305","name":"web_search","max_uses":5}]""");

        // Act
        var withoutTools = TallyOf(billing, key, plain);
        var withTools = TallyOf(billing, key, searching);

        // Assert: the tool uses count at their full price; each further sampling iteration a context window of input.
        Assert.True(withTools - withoutTools >= 50_000 + (5 * 200_000 * 1.5m));
    }

    [Fact]
    public void StartTally_RefusesWhatACappedKeyCannotRunAsACall()
    {
        // Arrange
        using var governance = new InMemoryGovernance(DateTimeOffset.UtcNow);
        var billing = BillingOver(governance, PriceTableOf());
        var capped = billing.StartTally(Key("""{"spendCap": 1000}"""));
        var uncapped = billing.StartTally(Key("""{"requestsPerMinute": 10}"""));
        using var unpriced = JsonDocument.Parse(Request("unpriced-model", 100));
        using var codeExecution = JsonDocument.Parse(Request(Model, 100, ""","tools":[{"type":"code_execution_20250825","name":"code_execution"}]"""));

        // Act
        var unpricedCapped = capped.Add(unpriced.RootElement, "unpriced-model", null);
        var codeCapped = capped.Add(codeExecution.RootElement, Model, null);
        var unpricedUncapped = uncapped.Add(unpriced.RootElement, "unpriced-model", null);

        // Assert
        Assert.Equal(403, unpricedCapped!.Status);
        Assert.Contains("unpriced-model", unpricedCapped.Message, StringComparison.Ordinal);
        Assert.Equal(403, codeCapped!.Status);
        Assert.Contains("code_execution", codeCapped.Message, StringComparison.Ordinal);
        Assert.Null(unpricedUncapped);
        Assert.Equal(0, uncapped.WorstCaseMicros);
    }

    [Fact]
    public async Task ReserveAsync_KeyWithoutLimits_ReservesNothingAndNeverAsksTheLedger()
    {
        // Arrange
        using var governance = new InMemoryGovernance(DateTimeOffset.UtcNow);
        var billing = BillingOver(governance, PriceTableOf());
        var key = Key(null);

        // Act
        var admission = await billing.ReserveAsync(key, "msgbatch_free", billing.StartTally(key), CancellationToken.None);

        // Assert
        Assert.True(admission.Admitted);
        Assert.Null(admission.Reserved);
        Assert.Equal(0, governance.Ledger.Operations);
    }

    private static BatchCostTally Tally(BatchBilling billing, ApiKey key, IEnumerable<string> requests)
    {
        var tally = billing.StartTally(key);
        foreach (var request in requests)
        {
            using var document = JsonDocument.Parse(request);
            Assert.Null(tally.Add(document.RootElement, Model, null));
        }

        return tally;
    }

    private static long TallyOf(BatchBilling billing, ApiKey key, string request) => Tally(billing, key, [request]).WorstCaseMicros;

    private static BatchBilling BillingOver(InMemoryGovernance governance, PriceTable prices) =>
        new(new GovernanceService(governance.Admission(prices), governance.Settlements, governance.Reservations, prices), governance.Ledger,
            governance.Time, InMemoryGovernance.Options, Options.Create(new BatchSettlementOptions()), NullLogger<BatchBilling>.Instance);

    private static PriceTable PriceTableOf() => Governance.PriceSettings.Read(new Dictionary<string, string?>
    {
        [Model + ":Input"] = "3",
        [Model + ":Output"] = "15",
        [Model + ":WebSearch"] = "10",
    }, new PricesOptions { Defaults = PricesOptions.NoDefaults });

    private static ApiKey Key(string? limits) => new()
    {
        Id = "key_batchbilling" + Guid.NewGuid().ToString("N")[..8],
        Name = "batch",
        Hash = "hash",
        Hint = "hint",
        CreatedAt = DateTimeOffset.UtcNow.AddDays(-1),
        LimitsJson = limits,
    };
}
