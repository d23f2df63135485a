using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>
/// The authorize step alone, over the in-memory limit ledger: what it answers (refusal, rate-limit status,
/// reservation) for each kind of key, with no HTTP anywhere.
/// </summary>
public sealed class AdmissionServiceTests : IDisposable
{
    private const string Model = "claude-sonnet-4-6";
    private static readonly DateTimeOffset Now = new(2026, 11, 5, 10, 20, 5, TimeSpan.Zero);

    private readonly InMemoryGovernance _governance = new(Now);

    [Fact]
    public async Task AdmitAsync_AdmitsWithNothingToReport_WhenTheKeyHasNoLimits()
    {
        // Arrange
        var admission = Service(Prices());
        using var messages = Messages();

        // Act
        var result = await admission.AdmitAsync(Key(null), "req_1", messages);

        // Assert: the fast path; the limit ledger is never asked.
        Assert.Equal(default, result);
        Assert.True(result.Admitted);
        Assert.Equal(0, _governance.Ledger.Operations);
    }

    [Fact]
    public async Task AdmitAsync_RefusesBeforeTheLimitLedger_WhenTheModelHasNoPriceAndUnpricedModelsAreRefused()
    {
        // Arrange
        var admission = Service(Prices(priced: false, refuseUnpriced: true));
        using var messages = Messages();

        // Act
        var result = await admission.AdmitAsync(Key("""{"requestsPerMinute": 5}"""), "req_1", messages);

        // Assert
        Assert.Equal(403, result.Refusal?.Status);
        Assert.Contains(Model, result.Refusal!.Message, StringComparison.Ordinal);
        Assert.Null(result.RateLimits);
        Assert.Null(result.Reservation);
        Assert.Equal(0, _governance.Ledger.Operations);
    }

    [Fact]
    public async Task AdmitAsync_RefusesWithAPermissionError_WhenTheKeysLimitsCannotBeRead()
    {
        // Arrange
        var admission = Service(Prices());
        using var messages = Messages();

        // Act
        var result = await admission.AdmitAsync(Key("""{"requestsPerHour": 5}"""), "req_1", messages);

        // Assert
        Assert.Equal(403, result.Refusal?.Status);
        Assert.Equal(ErrorTypes.Permission, result.Refusal!.Type);
        Assert.Null(result.RateLimits);
        Assert.Equal(0, _governance.Ledger.Operations);
    }

    [Fact]
    public async Task AdmitAsync_ReturnsTheCountersAfterTheCall_AndTracksItsReservation_WhenAdmitted()
    {
        // Arrange
        var admission = Service(Prices());
        var key = Key("""{"requestsPerMinute": 10, "tokensPerMinute": 100000}""");
        using var messages = Messages(maxTokens: 300);

        // Act
        var result = await admission.AdmitAsync(key, "req_1", messages);

        // Assert: the status is exactly what the limit ledger now holds, for the window of the admission.
        Assert.Null(result.Refusal);
        var status = Assert.NotNull(result.RateLimits);
        var counters = await _governance.Ledger.ReadAsync(key.Id, status.Limits, Now, default);
        Assert.Equal(counters, status.Usage);
        Assert.Equal(1, status.Usage.Requests);
        Assert.Equal(300, status.Usage.OutputTokens);
        Assert.True(status.Usage.InputTokens > 0);
        Assert.Equal(new DateTimeOffset(2026, 11, 5, 10, 20, 0, TimeSpan.Zero), status.WindowStart);
        Assert.Equal(Now, status.Now);
        Assert.False(status.Stream);
        Assert.Equal(100_000, status.Limits.TokensPerMinute);
        Assert.Equal("req_1", result.Reservation?.Reserved.RequestId);
        Assert.Equal(1, _governance.Reservations.Count);
    }

    [Fact]
    public async Task AdmitAsync_RefusesUntilTheWindowEnds_AndReportsTheCountersAsTheyStood_WhenTheRequestLimitIsReached()
    {
        // Arrange
        var admission = Service(Prices());
        var key = Key("""{"requestsPerMinute": 1}""");
        using var messages = Messages();
        var first = await admission.AdmitAsync(key, "req_1", messages);

        // Act
        var second = await admission.AdmitAsync(key, "req_2", messages);

        // Assert: 10:20:05 in the window of 10:20, so 55 seconds to its end.
        Assert.True(first.Admitted);
        Assert.Null(first.Reservation);
        Assert.Equal(429, second.Refusal?.Status);
        Assert.Equal(55, second.Refusal!.RetryAfterSeconds);
        Assert.Equal(1, second.RateLimits?.Usage.Requests);
        Assert.Null(second.Reservation);
    }

    [Fact]
    public async Task AdmitAsync_RefusesWithABillingError_WhenTheWorstCaseWouldPassTheSpendCap()
    {
        // Arrange: $15 per million output tokens, so 1000 max_tokens may cost $0.015 against a cap of $0.01.
        var admission = Service(Prices());
        using var messages = Messages(maxTokens: 1000);

        // Act
        var result = await admission.AdmitAsync(Key("""{"spendCap": 0.01}"""), "req_1", messages);

        // Assert
        Assert.Equal(402, result.Refusal?.Status);
        // Nothing is spent yet: the message says what is left and what the call may cost, not that the cap is reached.
        Assert.StartsWith("This API key's spend cap does not cover this call: 0.01 USD of 0.01 USD remain", result.Refusal!.Message, StringComparison.Ordinal);
        Assert.Contains("Lower max_tokens, or ask the operator to raise the cap.", result.Refusal.Message, StringComparison.Ordinal);
        Assert.Equal(10_000, result.RateLimits?.Limits.SpendCapMicros);
        Assert.Equal(0, result.RateLimits?.Usage.ReservedMicros);
    }

    [Theory]
    [InlineData("cache_control")]
    [InlineData("cache\\u005fcontrol")]
    [InlineData("\\u0063ache_control")]
    public async Task AdmitAsync_ReservesTheCacheWritePrice_HoweverCacheControlIsSpelled(string spelling)
    {
        // Arrange: cache writes dearer than input; the same request without cache control, and with it spelled as given.
        var admission = Service(Prices(cacheWrite: true));
        var system = new string('x', 40_000);
        using var plain = Messages(extra: $$$""","system":[{"type":"text","text":"{{{system}}}"}]""");
        using var cached = Messages(extra: $$$""","system":[{"type":"text","text":"{{{system}}}","{{{spelling}}}":{"type":"ephemeral"}}]""");

        // Act
        var withoutCache = await admission.AdmitAsync(Key("""{"spendCap": 100}""", "key_00000000000000b1"), "req_1", plain);
        var withCache = await admission.AdmitAsync(Key("""{"spendCap": 100}""", "key_00000000000000b2"), "req_2", cached);

        // Assert: an escaped name reserves what the plain one does (a byte search alone would miss it).
        var reservedWith = withCache.RateLimits!.Value.Usage.ReservedMicros;
        var reservedWithout = withoutCache.RateLimits!.Value.Usage.ReservedMicros;
        Assert.True(reservedWith > reservedWithout, $"{reservedWith} vs {reservedWithout}");
    }

    [Theory]
    [InlineData("""{"type":"document","source":{"type":"url","url":"https://example.com/report.pdf"}}""")]
    [InlineData("""{"type":"document","source":{"type":"file","file_id":"file_011CNha8iCJcU1wXNR6q4V8w"}}""")]
    [InlineData("""{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0xLjUKJcfsj6IKMSAwIG9iago8PC9UeXBlL09ialN0bS9OIDMvRmlyc3QgMTQvRmlsdGVyL0ZsYXRlRGVjb2RlL0xlbmd0aCA0Mj4+CnN0cmVhbQp4nLOx0Q+pLEjVD0hMT7WzAwAglwRyCmVuZHN0cmVhbQplbmRvYmoKJSVFT0YK"}}""")]
    [InlineData("""{"type":"image","source":{"type":"url","url":"https://example.com/scan.png"}}""")]
    public async Task AdmitAsync_ReservesTheContextWindow_ForInputTheGatewayCannotMeasure(string block)
    {
        // Arrange: a document or image the gateway cannot see into (by URL, by file id, a PDF whose pages sit in
        // compressed object streams): the upstream may bill up to the model's whole context window for it.
        var admission = Service(Prices());
        using var messages = Messages(content: $$"""[{{block}},{"type":"text","text":"Summarise this."}]""");

        // Act
        var result = await admission.AdmitAsync(Key("""{"spendCap": 100}"""), "req_1", messages);

        // Assert: 200,000 input tokens at 3 and max_tokens 100 at 15 per million.
        Assert.Equal((200_000 * 3) + (100 * 15), result.RateLimits?.Usage.ReservedMicros);
    }

    [Fact]
    public async Task AdmitAsync_ReservesTheLongContextWindow_WhenTheContext1mBetaIsSent()
    {
        // Arrange
        var admission = Service(Prices());
        using var messages = Messages(content: """[{"type":"document","source":{"type":"url","url":"https://example.com/a.pdf"}}]""");
        messages.AnthropicBeta = "interleaved-thinking-2025-05-14,context-1m-2025-08-07";

        // Act
        var result = await admission.AdmitAsync(Key("""{"spendCap": 100}"""), "req_1", messages);

        // Assert
        Assert.Equal((1_000_000 * 3) + (100 * 15), result.RateLimits?.Usage.ReservedMicros);
    }

    [Theory]
    [InlineData("9223372036854775807")]
    [InlineData("1000000000000000000")]
    public async Task AdmitAsync_RefusesACappedCall_WhoseServerToolUsesWouldOverflowItsWorstCase(string maxUses)
    {
        // Arrange: a hostile max_uses, on two server tools, so neither the iterations nor the worst case may wrap negative
        // and slip under the cap.
        var admission = Service(Prices());
        using var messages = Messages(extra: $$""","tools":[{"type":"web_search_20250305","name":"web_search","max_uses":{{maxUses}}},{"type":"web_fetch_20250910","name":"web_fetch","max_uses":{{maxUses}}}]""");

        // Act
        var result = await admission.AdmitAsync(Key("""{"spendCap": 100}"""), "req_1", messages);

        // Assert
        Assert.Equal(402, result.Refusal?.Status);
    }

    [Theory]
    [InlineData(""","max_uses":2""", 3)]
    [InlineData("", 11)]
    public async Task AdmitAsync_ReservesAContextWindowPerSamplingIteration_WhenServerToolsMayLoop(string maxUses, int windows)
    {
        // Arrange: a server tool runs in the upstream and samples again with its results, each time with the whole context.
        var admission = Service(Prices());
        using var messages = Messages(extra: $$""","tools":[{"type":"web_search_20250305","name":"web_search"{{maxUses}}}]""");

        // Act
        var result = await admission.AdmitAsync(Key("""{"spendCap": 100}"""), "req_1", messages);

        // Assert: the first sampling and one per allowed use (at most the loop limit, 10), a context window each, and
        // each allowed search at its price ($10 per 1,000, the default).
        Assert.Equal((windows * 200_000L * 3) + (100 * 15) + ((windows - 1) * 10_000L), result.RateLimits?.Usage.ReservedMicros);
    }

    [Fact]
    public async Task AdmitAsync_ReservesMeasuredTextAtNoLessThanItsBytes_WhenATokenizerCouldCountFewer()
    {
        // Arrange: 20,000 CJK characters, 60,000 UTF-8 bytes. The estimating tokenizer counts far fewer tokens than that;
        // the upstream's may count up to one per byte.
        var admission = Service(Prices());
        var text = new string('字', 20_000);
        using var messages = Messages(content: $"\"{text}\"");

        // Act
        var result = await admission.AdmitAsync(Key("""{"spendCap": 100}"""), "req_1", messages);

        // Assert
        Assert.True(result.RateLimits?.Usage.ReservedMicros >= (60_000 * 3) + (100 * 15), $"reserved {result.RateLimits?.Usage.ReservedMicros}");
    }

    [Theory]
    [InlineData(150_000L, (150_000 * 3) + (100 * 15))]
    [InlineData(null, (200_000 * 3) + (100 * 15))]
    public async Task AdmitAsync_ReservesTheUpstreamsCount_WhenCountFirstCountsUnmeasuredInput(long? counted, long reserved)
    {
        // Arrange: count-first with no margin; the counter answers, or cannot (then the worst case).
        var options = new GatewayOptions();
        options.Limits.UnmeasuredInput = UnmeasuredInputModes.CountFirst;
        options.Limits.InputEstimateMargin = 1;
        var admission = _governance.Admission(Prices(), options: options);
        var counter = Substitute.For<IInputTokenCounter>();
        counter.CountAsync(Arg.Any<MessagesRequest>()).Returns(counted);
        using var messages = Messages(content: """[{"type":"document","source":{"type":"file","file_id":"file_abc"}}]""");

        // Act
        var result = await admission.AdmitAsync(Key("""{"spendCap": 100}"""), "req_1", messages, counter: counter);

        // Assert
        Assert.Equal(reserved, result.RateLimits?.Usage.ReservedMicros);
        await counter.Received(1).CountAsync(messages);
    }

    [Fact]
    public async Task AdmitAsync_DoesNotCount_WhenEveryPartIsMeasured()
    {
        // Arrange
        var options = new GatewayOptions();
        options.Limits.UnmeasuredInput = UnmeasuredInputModes.CountFirst;
        var admission = _governance.Admission(Prices(), options: options);
        var counter = Substitute.For<IInputTokenCounter>();
        using var messages = Messages();

        // Act
        var result = await admission.AdmitAsync(Key("""{"spendCap": 100}"""), "req_1", messages, counter: counter);

        // Assert
        Assert.True(result.Admitted);
        await counter.DidNotReceiveWithAnyArgs().CountAsync(default!);
    }

    [Theory]
    [InlineData(nameof(StorageUnavailableException), 529, null)]
    [InlineData(nameof(LimitContentionException), 429, 1.0)]
    public async Task AdmitAsync_RefusesWithNothingToReport_WhenTheLimitLedgerCannotDecide(string failure, int status, double? retryAfter)
    {
        // Arrange: storage down (limits fail closed), or other instances kept changing the same counters.
        Exception exception = failure == nameof(StorageUnavailableException) ? new StorageUnavailableException("down") : new LimitContentionException("busy");
        var ledger = Substitute.For<ILimitLedger>();
        ledger.AdmitAsync(Arg.Any<AdmissionRequest>(), Arg.Any<CancellationToken>()).ThrowsAsync(exception);
        var admission = Service(Prices(), ledger);
        using var messages = Messages();

        // Act
        var result = await admission.AdmitAsync(Key("""{"requestsPerMinute": 5}"""), "req_1", messages);

        // Assert
        Assert.Equal(status, result.Refusal?.Status);
        Assert.Equal(retryAfter, result.Refusal!.RetryAfterSeconds);
        Assert.Null(result.RateLimits);
        Assert.Null(result.Reservation);
    }

    [Fact]
    public async Task Reservation_GivesTheStreamSlotBack_WhenDisposedWithoutAUsageRecord()
    {
        // Arrange: one stream slot, taken.
        var admission = Service(Prices());
        var key = Key("""{"concurrentStreams": 1}""");
        using var messages = Messages(stream: true);
        var running = await admission.AdmitAsync(key, "req_1", messages);
        var refused = await admission.AdmitAsync(key, "req_2", messages);

        // Act: the response ends with no record (a fault in the pipeline).
        await running.Reservation!.DisposeAsync();
        await _governance.Settlements.WaitForIdleAsync(CancellationToken.None);
        var next = await admission.AdmitAsync(key, "req_3", messages);

        // Assert
        Assert.Equal(1, running.RateLimits?.Usage.ActiveStreams);
        Assert.Equal(429, refused.Refusal?.Status);
        Assert.True(next.Admitted);
        Assert.Equal(1, next.RateLimits?.Usage.ActiveStreams);
        Assert.Equal(1, _governance.Reservations.Count);
    }

    public void Dispose() => _governance.Dispose();

    private AdmissionService Service(PriceTable prices, ILimitLedger? ledger = null) => _governance.Admission(prices, ledger);

    private static PriceTable Prices(bool priced = true, bool refuseUnpriced = false, bool cacheWrite = false)
    {
        var entries = priced
            ? new Dictionary<string, string?> { ["Gateway:Prices:claude-sonnet-*:Input"] = "3", ["Gateway:Prices:claude-sonnet-*:Output"] = "15" }
            : [];
        if (cacheWrite)
        {
            entries["Gateway:Prices:claude-sonnet-*:CacheWrite1h"] = "6";
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(entries).Build();
        return PriceTable.Read(configuration.GetSection("Gateway:Prices"),
            new PricesOptions { UnpricedModels = refuseUnpriced ? PricesOptions.Refuse : PricesOptions.Allow, Defaults = PricesOptions.NoDefaults });
    }

    internal static ApiKey Key(string? limits, string id = "key_00000000000000aa") => new()
    {
        Id = id,
        Name = "test",
        Hash = "hash",
        Hint = "sk-...aaaa",
        CreatedAt = Now.AddDays(-1),
        LimitsJson = limits,
    };

    private static MessagesRequest Messages(int maxTokens = 100, bool stream = false, string extra = "", string content = "\"Hello there\"")
    {
        var body = Encoding.UTF8.GetBytes(
            $$"""{"model":"{{Model}}","max_tokens":{{maxTokens}},"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":{{content}}}]{{extra}}}""");
        return new MessagesRequest(body, JsonDocument.Parse(body), Model, maxTokens, stream);
    }
}
