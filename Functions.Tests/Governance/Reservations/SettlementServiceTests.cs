using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>Settlement over the in-memory limit ledger: a usage record replaces the call's reservation with what it used.</summary>
public sealed class SettlementServiceTests : IDisposable
{
    private const string Key = "key_00000000000000aa";
    private static readonly DateTimeOffset Now = new(2026, 11, 5, 10, 20, 5, TimeSpan.Zero);
    private static readonly KeyLimits Limits = new() { TokensPerMinute = 10_000, ConcurrentStreams = 2, SpendCapMicros = 1_000_000 };

    private readonly FakeTimeProvider _time = new(Now);
    private readonly InMemoryLimitLedger _ledger = new();
    private readonly ReservationRegistry _reservations = new();
    private readonly SettlementService _settlements;

    public SettlementServiceTests()
    {
        _settlements = new SettlementService(_ledger, _reservations, _time, Options(), NullLogger<SettlementService>.Instance);
    }

    [Fact]
    public async Task Settle_ReplacesTheReservationWithWhatTheCallUsed()
    {
        // Arrange: a stream reserved 100 input + 500 output tokens and 20 000 micro-units.
        var admitted = await _ledger.AdmitAsync(Request("req_1", new CallEstimate(100, 500, 20_000, true)), default);
        _settlements.Track(admitted.Reserved!, Now);

        // Act
        _settlements.Settle(Record("req_1", input: 80, output: 40, cost: 0.0012m));
        await _settlements.WaitForIdleAsync(CancellationToken.None);

        // Assert: the request still counts; real tokens in the window, the cost in the spend counter, the slot and the reservation back.
        Assert.Equal(new LimitUsage(1, 80, 40, 1_200, 0, 0), await _ledger.ReadAsync(Key, Limits, Now, default));
        Assert.Equal(0, _reservations.Count);
    }

    [Fact]
    public async Task Settle_LeavesTheCountersAlone_WhenThisInstanceHoldsNoReservationForTheCall()
    {
        // Arrange
        var admitted = await _ledger.AdmitAsync(Request("req_1", new CallEstimate(100, 500, 20_000, true)), default);
        _settlements.Track(admitted.Reserved!, Now);
        var operations = _ledger.Operations;

        // Act
        _settlements.Settle(Record("req_other", input: 80, output: 40, cost: 0.0012m));
        await _settlements.WaitForIdleAsync(CancellationToken.None);

        // Assert
        Assert.Equal(operations, _ledger.Operations);
        Assert.Equal(1, _reservations.Count);
    }

    public void Dispose()
    {
        _settlements.Dispose();
        _ledger.Dispose();
    }

    private static IOptions<GatewayOptions> Options() => Microsoft.Extensions.Options.Options.Create(new GatewayOptions());

    private static AdmissionRequest Request(string requestId, CallEstimate estimate) => new()
    {
        KeyId = Key,
        RequestId = requestId,
        Limits = Limits,
        Estimate = estimate,
        Now = Now,
        KeyCreatedAt = Now.AddDays(-1),
        LeaseDuration = TimeSpan.FromMinutes(2),
    };

    private static UsageRecord Record(string requestId, long input, long output, decimal cost) => new()
    {
        RequestId = requestId,
        KeyId = Key,
        Endpoint = "messages",
        StartedAt = Now,
        State = UsageStates.Complete,
        InputTokens = input,
        OutputTokens = output,
        Cost = cost,
    };

}
