using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>Settlement over the in-memory limit ledger: a usage record replaces the call's reservation with what it used.</summary>
public sealed class SettlementServiceTests : IDisposable
{
    private const string Key = "key_00000000000000aa";
    private static readonly DateTimeOffset Now = new(2026, 11, 5, 10, 20, 5, TimeSpan.Zero);
    private static readonly KeyLimits Limits = new() { TokensPerMinute = 10_000, ConcurrentStreams = 2, SpendCapMicros = 1_000_000 };

    private readonly InMemoryGovernance _governance = new(Now);

    [Fact]
    public async Task Settle_ReplacesTheReservationWithWhatTheCallUsed()
    {
        // Arrange: a stream reserved 100 input + 500 output tokens and 20 000 micro-units.
        var admitted = await _governance.Ledger.AdmitAsync(Request("req_1", new CallEstimate(100, 500, 20_000, true)), default);
        _governance.Settlements.Track(admitted.Reserved!, Now);

        // Act
        _governance.Settlements.Settle(Record("req_1", input: 80, output: 40, cost: 0.0012m));
        await _governance.Settlements.WaitForIdleAsync(CancellationToken.None);

        // Assert: the request still counts; real tokens in the window, the cost in the spend counter, the slot and the reservation back.
        Assert.Equal(new LimitUsage(1, 80, 40, 1_200, 0, 0), await _governance.Ledger.ReadAsync(Key, Limits, Now, default));
        Assert.Equal(0, _governance.Reservations.Count);
    }

    [Fact]
    public async Task Settle_LeavesTheCountersAlone_WhenThisInstanceHoldsNoReservationForTheCall()
    {
        // Arrange
        var admitted = await _governance.Ledger.AdmitAsync(Request("req_1", new CallEstimate(100, 500, 20_000, true)), default);
        _governance.Settlements.Track(admitted.Reserved!, Now);
        var operations = _governance.Ledger.Operations;

        // Act
        _governance.Settlements.Settle(Record("req_other", input: 80, output: 40, cost: 0.0012m));
        await _governance.Settlements.WaitForIdleAsync(CancellationToken.None);

        // Assert
        Assert.Equal(operations, _governance.Ledger.Operations);
        Assert.Equal(1, _governance.Reservations.Count);
    }

    public void Dispose() => _governance.Dispose();

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
        State = UsageState.Complete,
        InputTokens = input,
        OutputTokens = output,
        Cost = cost,
    };

}
