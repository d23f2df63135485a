using Qhaigc.Functions.Governance;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>
/// What every limit ledger must do, with explicit times: token windows, settlement, expired holds. Run against the
/// table ledger (<see cref="TableLimitLedgerTests"/>) and the in-memory one the unit tests use
/// (<see cref="InMemoryLimitLedgerTests"/>), so the two cannot drift apart.
/// </summary>
public abstract class LimitLedgerContract
{
    protected static readonly DateTimeOffset Start = new(2026, 11, 5, 10, 20, 5, TimeSpan.Zero);
    protected static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TokensPerMinute_OvershootIsBoundedByTheInputUnderestimates()
    {
        // Arrange: each call is estimated at 4 input tokens (+ 15 max_tokens) but really uses 25 + 15.
        var ledger = await CreateLedgerAsync();
        var limits = new KeyLimits { TokensPerMinute = 100 };
        var estimate = new CallEstimate(4, 15, null, false);
        var admitted = new List<Reserved>();

        // Act: admit while the window has room, then settle every call at its real count.
        for (var i = 0; i < 10; i++)
        {
            var outcome = await ledger.AdmitAsync(Request(limits, estimate, Start.AddSeconds(i)), default);
            if (outcome.Admitted)
            {
                admitted.Add(outcome.Reserved!);
            }
        }

        foreach (var reserved in admitted)
        {
            await ledger.SettleAsync(reserved, new ActualUse(25, 15, 0), default);
        }

        var settled = await ledger.ReadAsync(Key, limits, Start.AddSeconds(20), default);
        var next = await ledger.AdmitAsync(Request(limits, estimate, Start.AddSeconds(21)), default);

        // Assert: 5 x 19 = 95 reserved <= 100; settled 5 x 40 = 200 = limit + sum of (real - reserved input) - slack.
        Assert.Equal(5, admitted.Count);
        Assert.Equal(200, settled.Tokens);
        var bound = limits.TokensPerMinute!.Value + admitted.Sum(static r => 25 - r.InputTokens);
        Assert.True(settled.Tokens <= bound, $"{settled.Tokens} > {bound}");
        Assert.Equal(LimitKind.Tokens, next.Refused);
    }

    [Fact]
    public async Task Count_CountsInTheRequestWindowOrItsOwn_UpToTheLimit_AndLeavesTokensAlone()
    {
        // Arrange: an admitted call holds tokens and one request in the window.
        var ledger = await CreateLedgerAsync();
        var limits = new KeyLimits { RequestsPerMinute = 3, TokensPerMinute = 1000 };
        await ledger.AdmitAsync(Request(limits, new CallEstimate(10, 20, null, false), Start), default);

        // Act: refusals in the request window, count_tokens calls in their own.
        var refusals = new List<WindowCount>();
        for (var i = 0; i < 3; i++)
        {
            refusals.Add(await ledger.CountAsync(Key, LimitWindowEntity.Row, 3, Start.AddSeconds(1 + i), default));
        }

        var ownFirst = await ledger.CountAsync(Key, LimitWindowEntity.CountTokensRow, 1, Start.AddSeconds(5), default);
        var ownSecond = await ledger.CountAsync(Key, LimitWindowEntity.CountTokensRow, 1, Start.AddSeconds(6), default);
        var nextMinute = await ledger.CountAsync(Key, LimitWindowEntity.CountTokensRow, 1, Start.AddMinutes(1), default);
        var usage = await ledger.ReadAsync(Key, limits, Start.AddSeconds(7), default);

        // Assert
        Assert.Equal([true, true, false], refusals.Select(static c => c.Counted));
        Assert.Equal(3, refusals[^1].Calls);
        Assert.Equal((3, 30), (usage.Requests, usage.Tokens));
        Assert.True(ownFirst.Counted);
        Assert.False(ownSecond.Counted);
        Assert.True(nextMinute.Counted);
    }

    [Fact]
    public async Task ExpiredHold_IsSwept_WhenItWouldRefuse_AndALateSettlementAddsOnlyTheCost()
    {
        // Arrange: an instance admits a stream with a spend reservation and dies (no renewal, no settlement).
        var ledger = await CreateLedgerAsync();
        var limits = new KeyLimits { ConcurrentStreams = 1, SpendCapMicros = 10_000 };
        var stream = new CallEstimate(10, 100, 6_000, true);
        var dead = await ledger.AdmitAsync(Request(limits, stream, Start, "req_dead"), default);

        // Act
        var whileHeld = await ledger.AdmitAsync(Request(limits, stream, Start + Lease - TimeSpan.FromSeconds(1), "req_early"), default);
        var afterExpiry = await ledger.AdmitAsync(Request(limits, stream, Start + Lease + TimeSpan.FromSeconds(1), "req_late"), default);
        await ledger.SettleAsync(dead.Reserved!, new ActualUse(10, 50, 1_000), default);
        var beforeSecondSettles = await ledger.ReadAsync(Key, limits, Start + Lease + TimeSpan.FromSeconds(2), default);
        await ledger.SettleAsync(afterExpiry.Reserved!, new ActualUse(10, 20, 400), default);
        var final = await ledger.ReadAsync(Key, limits, Start + Lease + TimeSpan.FromSeconds(3), default);

        // Assert
        Assert.True(dead.Admitted);
        Assert.Equal(LimitKind.Spend, whileHeld.Refused);
        Assert.True(afterExpiry.Admitted);
        Assert.Equal(new LimitUsage(0, 0, 0, 1_000, 6_000, 1), beforeSecondSettles);
        Assert.Equal(new LimitUsage(0, 0, 0, 1_400, 0, 0), final);
    }

    [Fact]
    public async Task RenewedHold_IsNotSwept()
    {
        // Arrange
        var ledger = await CreateLedgerAsync();
        var limits = new KeyLimits { ConcurrentStreams = 1 };
        var stream = new CallEstimate(0, 100, null, true);
        var running = await ledger.AdmitAsync(Request(limits, stream, Start, "req_running"), default);

        // Act: the instance renews before the lease ends; another call comes after the first expiry would have been.
        Assert.True(await ledger.RenewAsync(running.Reserved!, Start + Lease + Lease, default));
        var other = await ledger.AdmitAsync(Request(limits, stream, Start + Lease + TimeSpan.FromSeconds(1), "req_other"), default);
        await ledger.SettleAsync(running.Reserved!, default, default);
        var renewSettled = await ledger.RenewAsync(running.Reserved!, Start + (3 * Lease), default);

        // Assert
        Assert.Equal(LimitKind.Streams, other.Refused);
        Assert.False(renewSettled);
        Assert.Equal(0, (await ledger.ReadAsync(Key, limits, Start, default)).ActiveStreams);
    }

    [Fact]
    public async Task Settle_AfterTheWindowPassed_LeavesTheNewWindowAlone()
    {
        // Arrange
        var ledger = await CreateLedgerAsync();
        var limits = new KeyLimits { RequestsPerMinute = 10, TokensPerMinute = 1000 };
        var call = new CallEstimate(100, 100, null, false);
        var old = await ledger.AdmitAsync(Request(limits, call, Start, "req_old"), default);
        var current = await ledger.AdmitAsync(Request(limits, call, Start.AddMinutes(1), "req_current"), default);

        // Act
        await ledger.SettleAsync(old.Reserved!, new ActualUse(5, 5, 0), default);
        var usage = await ledger.ReadAsync(Key, limits, Start.AddMinutes(1), default);

        // Assert: the old call's settlement did not touch the window that replaced its own.
        Assert.True(current.Admitted);
        Assert.Equal(new LimitUsage(1, 100, 100, 0, 0, 0), usage);
    }

    [Fact]
    public async Task Admit_AdmitsWithNothingToWrite_WhenTheCallChangesNoCounter()
    {
        // Arrange: a key whose only limit is a spend cap, and a call with no cost to reserve (its model has no price).
        // Nothing moves, so there is nothing to commit: an empty transaction is an error at Table Storage.
        var ledger = await CreateLedgerAsync();
        var limits = new KeyLimits { SpendCapMicros = 1_000_000 };
        var unpriced = new CallEstimate(100, 100, null, false);

        // Act
        var outcome = await ledger.AdmitAsync(Request(limits, unpriced, Start), default);
        await ledger.SettleAsync(outcome.Reserved!, new ActualUse(100, 100, 0), default);
        var usage = await ledger.ReadAsync(Key, limits, Start, default);

        // Assert
        Assert.True(outcome.Admitted);
        Assert.False(outcome.Reserved!.HasHold);
        Assert.Equal(new LimitUsage(0, 0, 0, 0, 0, 0), usage);
    }

    [Fact]
    public async Task SettleOnce_SettlesTheFirstTimeOnly_EvenAfterTheHoldWasSwept()
    {
        // Arrange: two reservations of 1,000 against a cap of 2,000.
        var ledger = await CreateLedgerAsync();
        var limits = new KeyLimits { SpendCapMicros = 2_000 };
        var first = (await ledger.AdmitAsync(Request(limits, new CallEstimate(0, 0, 1_000, false), Start, "msgbatch_a"), default)).Reserved!;
        var second = (await ledger.AdmitAsync(Request(limits, new CallEstimate(0, 0, 1_000, false), Start, "msgbatch_b"), default)).Reserved!;

        // Act: the first settled twice; then the second's hold expires and a refused admission sweeps it; then it is
        // settled twice.
        var settledFirst = await ledger.SettleOnceAsync(first, new ActualUse(0, 0, 400), default);
        var settledAgain = await ledger.SettleOnceAsync(first, new ActualUse(0, 0, 400), default);
        var afterSweep = await ledger.AdmitAsync(Request(limits, new CallEstimate(0, 0, 1_000, false), Start + Lease + Lease), default);
        var settledSwept = await ledger.SettleOnceAsync(second, new ActualUse(0, 0, 300), default);
        var sweptAgain = await ledger.SettleOnceAsync(second, new ActualUse(0, 0, 300), default);
        var usage = await ledger.ReadAsync(Key, limits, Start, default);

        // Assert: each cost counted once; the swept hold's reservation was given back by the sweep, not again.
        Assert.True(afterSweep.Admitted);
        Assert.Equal((true, false, true, false), (settledFirst, settledAgain, settledSwept, sweptAgain));
        Assert.Equal(700, usage.SpentMicros);
        Assert.Equal(1_000, usage.ReservedMicros);
    }

    protected const string Key = "key_00000000000000aa";

    protected static AdmissionRequest Request(KeyLimits limits, CallEstimate estimate, DateTimeOffset now, string? requestId = null) => new()
    {
        KeyId = Key,
        RequestId = requestId ?? "req_" + Guid.NewGuid().ToString("N"),
        Limits = limits,
        Estimate = estimate,
        Now = now,
        KeyCreatedAt = Start.AddDays(-1),
        LeaseDuration = Lease,
    };

    protected abstract Task<ILimitLedger> CreateLedgerAsync();
}
