using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Batches;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Tests.Governance;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Batches;

/// <summary>
/// Batch billing over one test's tables in Azurite: the real limit ledger, usage and objects tables, an in-memory
/// upstream batch API (<see cref="InMemoryBatchUpstream"/>), and as many "instances" (billing or settlement services
/// over the same tables, each with its own ledger) as a test asks for.
/// </summary>
public sealed class BatchBillingArrangement : IDisposable
{
    /// <summary>3 / 15 per million, cache writes 3.75 (5m) and 6 (1h), cache reads 0.30, web searches 10 per 1,000; batch prices at half.</summary>
    public const string Model = "fake-batch";

    /// <summary>2 / 8 per million, with a batch discount of its own: 0.25.</summary>
    public const string CheapModel = "fake-cheap";

    public const string Upstream = "anthropic";

    private readonly List<IDisposable> _owned = [];

    private BatchBillingArrangement(GatewayTestEnvironment environment)
    {
        Environment = environment;
        Prices = PriceSettings.Read(new Dictionary<string, string?>
        {
            [Model + ":Input"] = "3",
            [Model + ":Output"] = "15",
            [Model + ":CacheWrite5m"] = "3.75",
            [Model + ":CacheWrite1h"] = "6",
            [Model + ":CacheRead"] = "0.30",
            [Model + ":WebSearch"] = "10",
            [CheapModel + ":Input"] = "2",
            [CheapModel + ":Output"] = "8",
            [CheapModel + ":BatchDiscount"] = "0.25",
        }, new PricesOptions { Currency = "EUR", Defaults = PricesOptions.NoDefaults, Version = "batch-test" });
        Assert.Empty(Prices.Errors);
    }

    public GatewayTestEnvironment Environment { get; }

    public PriceTable Prices { get; }

    public InMemoryBatchUpstream BatchApi { get; } = new();

    public static IOptions<GatewayOptions> Gateway { get; } = Microsoft.Extensions.Options.Options.Create(new GatewayOptions());

    public static async Task<BatchBillingArrangement> CreateAsync() => new(await GatewayTestEnvironment.CreateAsync());

    /// <summary>A limit ledger of its own over the shared limits table: one instance's.</summary>
    public TableLimitLedger Ledger() => new(Environment.Tables, Environment.Usage, Gateway, NullLogger<TableLimitLedger>.Instance);

    /// <summary>Batch billing as one instance runs it.</summary>
    public BatchBilling Billing()
    {
        var ledger = Ledger();
        var registry = new ReservationRegistry();
        var settlements = new SettlementService(ledger, registry, TimeProvider.System, Gateway, NullLogger<SettlementService>.Instance);
        _owned.Add(settlements);
        var admission = new AdmissionService(ledger, Prices, settlements, TimeProvider.System, Gateway, NullLogger<AdmissionService>.Instance);
        return new BatchBilling(new GovernanceService(admission, settlements, registry, Prices), ledger, TimeProvider.System, Gateway,
            Microsoft.Extensions.Options.Options.Create(new BatchSettlementOptions()), NullLogger<BatchBilling>.Instance);
    }

    /// <summary>Batch settlement as one instance runs it.</summary>
    public BatchSettlement Settlement(IOwnedObjectStore? objects = null, TimeProvider? time = null, TimeSpan? goneAfter = null) =>
        new(objects ?? Environment.Objects, BatchApi, Environment.Usage, Ledger(), Prices, time ?? TimeProvider.System,
            Microsoft.Extensions.Options.Options.Create(new BatchSettlementOptions { GoneAfter = goneAfter ?? TimeSpan.Zero }),
            NullLogger<BatchSettlement>.Instance);

    public Task<(string Secret, ApiKey Key)> KeyAsync(long? capMicros = null, string extraLimits = "") =>
        Environment.CreateKeyAsync(limits: capMicros is null && extraLimits.Length == 0
            ? null
            : "{" + string.Join(',', new[]
            {
                capMicros is { } cap ? string.Create(CultureInfo.InvariantCulture, $"\"spendCap\": {Money.FromMicros(cap)}") : null,
                extraLimits.Length > 0 ? extraLimits : null,
            }.Where(static p => p is not null)) + "}");

    /// <summary>A batch request as the API half validates it: a text prompt and <c>max_tokens</c>, optionally more fields.</summary>
    public static string Request(string model, int maxTokens, string extra = "") =>
        $$"""{"model":"{{model}}","max_tokens":{{maxTokens}},"messages":[{"role":"user","content":"Summarise the attached report, please."}]{{extra}}}""";

    /// <summary>Tallies the requests and reserves them as creating the batch does; the reservation (or refusal).</summary>
    public static async Task<BatchAdmission> ReserveAsync(BatchBilling billing, ApiKey key, string batchId, IEnumerable<string> requests)
    {
        var tally = billing.StartTally(key);
        foreach (var request in requests)
        {
            using var document = JsonDocument.Parse(request);
            var model = document.RootElement.GetProperty("model").GetString()!;
            Assert.Null(tally.Add(document.RootElement, model, null));
        }

        return await billing.ReserveAsync(key, batchId, tally, CancellationToken.None);
    }

    /// <summary>Records the batch as the API half does once the upstream took it: pending, with its reservation and models.</summary>
    public async Task<OwnedObject> AddBatchAsync(
        string keyId, string batchId, IReadOnlyList<string> results, Reserved? reserved, IReadOnlyList<string> models, string status = "ended")
    {
        BatchApi.Add("up_" + batchId, status, results);
        var batch = new OwnedObject
        {
            Kind = OwnedKinds.Batch,
            Id = batchId,
            OwnerKeyId = keyId,
            Upstream = Upstream,
            UpstreamId = "up_" + batchId,
            CreatedAt = DateTimeOffset.UtcNow,
            Pending = true,
            State = BatchStates.Write(new BatchState { RequestCount = results.Count, Reserved = reserved, Models = models }),
        };
        Assert.True(await Environment.Objects.AddAsync(batch, CancellationToken.None));
        return batch;
    }

    public async Task<OwnedObject> BatchAsync(string keyId, string batchId) =>
        (await Environment.Objects.FindAsync(keyId, OwnedKinds.Batch, batchId, CancellationToken.None))!;

    public async Task<T?> LimitsRowAsync<T>(string keyId, string rowKey)
        where T : class, Azure.Data.Tables.ITableEntity, new()
    {
        var table = await Environment.Tables.LimitsAsync(CancellationToken.None);
        var row = await table.GetEntityIfExistsAsync<T>(keyId, rowKey);
        return row.HasValue ? row.Value : null;
    }

    public Task<SpendEntity?> SpendAsync(string keyId) => LimitsRowAsync<SpendEntity>(keyId, SpendEntity.RowFor(SpendPeriods.Key(SpendPeriod.Month, DateTimeOffset.UtcNow)));

    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }

    /// <summary>Result lines of the kinds Anthropic writes (https://docs.anthropic.com/en/api/retrieving-message-batch-results).</summary>
    public static class ResultLines
    {
        /// <summary>Text every answer holds, which no record may ever show.</summary>
        public const string AnswerText = "CONFIDENTIAL ANSWER TEXT";

        public static string Succeeded(string customId, string model, string usage) =>
            "{\"custom_id\":\"" + customId + "\",\"result\":{\"type\":\"succeeded\",\"message\":{\"id\":\"msg_" + customId +
            "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"" + model + "\",\"content\":[{\"type\":\"text\",\"text\":\"" + AnswerText +
            "\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":" + usage + "}}}";

        public static string Errored(string customId, string type = "invalid_request_error") =>
            "{\"custom_id\":\"" + customId + "\",\"result\":{\"type\":\"errored\",\"error\":{\"type\":\"error\",\"error\":{\"type\":\"" + type +
            "\",\"message\":\"" + AnswerText + "\"}}}}";

        public static string Canceled(string customId) => "{\"custom_id\":\"" + customId + "\",\"result\":{\"type\":\"canceled\"}}";

        public static string Expired(string customId) => "{\"custom_id\":\"" + customId + "\",\"result\":{\"type\":\"expired\"}}";

        public static string Usage(long input, long output) =>
            $$"""{"input_tokens":{{input}},"output_tokens":{{output}},"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"service_tier":"batch"}""";

        /// <summary>
        /// <paramref name="count"/> results of every type: each tenth result from the seventh is errored, canceled and
        /// expired in turn, the others succeed with usage that grows with their place.
        /// </summary>
        public static List<string> Mixed(int count, string model = Model) => [.. Enumerable.Range(0, count).Select(i => (i % 10) switch
        {
            7 => Errored($"cust-{i}"),
            8 => Canceled($"cust-{i}"),
            9 => Expired($"cust-{i}"),
            _ => Succeeded($"cust-{i}", model, Usage(100 + i, 10 + (i % 50))),
        })];
    }
}
