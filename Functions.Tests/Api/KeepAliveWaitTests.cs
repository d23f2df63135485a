using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Tests.Api;

/// <summary>
/// <see cref="KeepAliveWait"/>: keep-alives only while an upstream read is pending, one per interval of silence, and
/// the wait charged to the call's clock (docs/wire-contract.md, docs/architecture.md "Timing").
/// </summary>
public sealed class KeepAliveWaitTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly Pipe _pipe = new();
    private readonly WaitClock _clock = new();

    [Fact]
    public async Task NextAsync_WritesAKeepAliveEveryInterval_WhileTheReadIsPending()
    {
        // Arrange
        await using var keepAlive = KeepAlive();
        var read = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var next = keepAlive.NextAsync(new ValueTask<int>(read.Task));

        // Act: just short of an interval, then three intervals.
        _time.Advance(Interval - TimeSpan.FromMilliseconds(1));
        var early = Written();
        _time.Advance(TimeSpan.FromMilliseconds(1));
        _time.Advance(Interval);
        _time.Advance(Interval);
        var pending = Written();
        read.SetResult(42);
        var result = await next;
        _time.Advance(Interval * 3);

        // Assert: none before the first interval, one per interval after, none once the read completed.
        Assert.Equal("", early);
        Assert.Equal(": ka\n\n: ka\n\n: ka\n\n", pending);
        Assert.Equal(42, result);
        Assert.Equal("", Written());
    }

    [Fact]
    public async Task NextAsync_WritesNothingAndChargesNothing_WhenTheReadIsAlreadyComplete()
    {
        // Arrange
        await using var keepAlive = KeepAlive();

        // Act
        var result = await keepAlive.NextAsync(new ValueTask<int>(7));
        _time.Advance(Interval * 3);

        // Assert
        Assert.Equal(7, result);
        Assert.Equal("", Written());
        Assert.Equal(0, _clock.Ticks);
    }

    [Fact]
    public async Task NextAsync_ChargesTheWaitToTheClock()
    {
        // Arrange: the read completes 200 ms later (real time: the clock is a stopwatch).
        await using var keepAlive = KeepAlive();

        // Act
        var started = Stopwatch.GetTimestamp();
        await keepAlive.NextAsync(new ValueTask<bool>(Task.Delay(200).ContinueWith(static _ => true, TaskScheduler.Default)));
        var elapsed = Stopwatch.GetElapsedTime(started);

        // Assert
        var waited = TimeSpan.FromSeconds(_clock.Ticks / (double)Stopwatch.Frequency);
        Assert.True(waited >= TimeSpan.FromMilliseconds(180), $"waited {waited}");
        Assert.True(waited <= elapsed, $"waited {waited} of {elapsed}");
    }

    [Fact]
    public async Task NextAsync_ThrowsWhatTheReadThrew_AndStopsTheKeepAlives()
    {
        // Arrange
        await using var keepAlive = KeepAlive();
        var read = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var next = keepAlive.NextAsync(new ValueTask<int>(read.Task));

        // Act
        read.SetException(new IOException("reset"));

        // Assert
        await Assert.ThrowsAsync<IOException>(async () => await next);
        _time.Advance(Interval * 2);
        Assert.Equal("", Written());
    }

    private KeepAliveWait KeepAlive() => new(_pipe.Writer, ": ka\n\n"u8, Interval, _time, _clock, CancellationToken.None);

    /// <summary>What the keep-alives flushed since the last look.</summary>
    private string Written()
    {
        if (!_pipe.Reader.TryRead(out var result))
        {
            return "";
        }

        var text = Encoding.UTF8.GetString(result.Buffer.ToArray());
        _pipe.Reader.AdvanceTo(result.Buffer.End);
        return text;
    }
}
