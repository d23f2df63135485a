using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Usage;

public sealed class UsageWriterTests
{
    private readonly IUsageStore _store = Substitute.For<IUsageStore>();
    private readonly CapturingLoggerProvider _logs = new();

    public UsageWriterTests()
    {
        // A batch behaves as its records' single writes would, one after the other (all or none is the store's promise).
        _store.WriteBatchAsync(Arg.Any<IReadOnlyList<UsageRecord>>(), Arg.Any<CancellationToken>()).Returns(async call =>
        {
            foreach (var record in call.Arg<IReadOnlyList<UsageRecord>>())
            {
                await _store.WriteAsync(record, call.Arg<CancellationToken>());
            }
        });
    }

    [Theory]
    [InlineData(2000, 1)]
    [InlineData(0, 5)]
    public async Task Submit_GathersRecordsArrivingWithinTheBatchWindow_IntoOneWrite(int windowMs, int expectedWrites)
    {
        // Arrange: five calls 20 ms apart, as at a few dozen calls a second (without a window, each is let be written
        // before the next comes, so that a slow machine cannot put two together).
        var writes = new List<int>();
        _store.WriteAsync(Arg.Any<UsageRecord>(), Arg.Any<CancellationToken>()).Returns(_ =>
        {
            lock (writes)
            {
                writes.Add(1);
            }

            return Task.CompletedTask;
        });
        _store.WriteBatchAsync(Arg.Any<IReadOnlyList<UsageRecord>>(), Arg.Any<CancellationToken>()).Returns(call =>
        {
            lock (writes)
            {
                writes.Add(call.Arg<IReadOnlyList<UsageRecord>>().Count);
            }

            return Task.CompletedTask;
        });
        using var writer = Writer(maxAttempts: 3, writers: 1, batchWindow: TimeSpan.FromMilliseconds(windowMs));
        await writer.StartAsync(CancellationToken.None);

        // Act
        for (var i = 0; i < 5; i++)
        {
            writer.Submit(Record($"req_{i}"));
            await Task.Delay(20);
            if (windowMs == 0)
            {
                await writer.WaitForIdleAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            }
        }

        await writer.WaitForIdleAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        await writer.StopAsync(CancellationToken.None);

        // Assert: with a window every record is in one write; without one, each is written as it comes.
        Assert.Equal(5, writes.Sum());
        Assert.Equal(expectedWrites, writes.Count);
    }

    [Fact]
    public async Task Submit_WritesRecordsWaitingForTheSameKey_InOneBatch()
    {
        // Arrange: storage is slow, so records pile up behind the first write.
        var gate = new TaskCompletionSource();
        var batches = new List<int>();
        _store.WriteAsync(Arg.Any<UsageRecord>(), Arg.Any<CancellationToken>()).Returns(_ => gate.Task);
        _store.WriteBatchAsync(Arg.Any<IReadOnlyList<UsageRecord>>(), Arg.Any<CancellationToken>()).Returns(call =>
        {
            lock (batches)
            {
                batches.Add(call.Arg<IReadOnlyList<UsageRecord>>().Count);
            }

            return Task.CompletedTask;
        });
        using var writer = Writer(maxAttempts: 3, writers: 1);
        await writer.StartAsync(CancellationToken.None);
        writer.Submit(Record("req_first"));
        while (_store.ReceivedCalls().All(static c => c.GetMethodInfo().Name != nameof(IUsageStore.WriteAsync)))
        {
            await Task.Delay(10);
        }

        // Act
        for (var i = 0; i < 150; i++)
        {
            writer.Submit(Record($"req_{i:D3}"));
        }

        gate.SetResult();
        await writer.WaitForIdleAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        await writer.StopAsync(CancellationToken.None);

        // Assert: the 150 waiting records went in batches of at most 100, not in 150 requests.
        Assert.Equal(150, batches.Sum());
        Assert.All(batches, static b => Assert.InRange(b, 2, 100));
        Assert.True(batches.Count <= 3, string.Join(",", batches));
    }

    [Fact]
    public async Task Submit_WritesARefusedBatchOneByOne_AndSaysSo()
    {
        // Arrange: the store refuses transactions (as Table Storage does a row it will not take), single writes land.
        var gate = new TaskCompletionSource();
        var written = new List<string>();
        _store.WriteAsync(Arg.Any<UsageRecord>(), Arg.Any<CancellationToken>()).Returns(async call =>
        {
            await gate.Task;
            lock (written)
            {
                written.Add(call.Arg<UsageRecord>().RequestId);
            }
        });
        _store.WriteBatchAsync(Arg.Any<IReadOnlyList<UsageRecord>>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new Azure.RequestFailedException(400, "The table refused the transaction: 400 Bad Request."));
        using var writer = Writer(maxAttempts: 3, writers: 1);
        await writer.StartAsync(CancellationToken.None);
        writer.Submit(Record("req_first"));
        while (_store.ReceivedCalls().All(static c => c.GetMethodInfo().Name != nameof(IUsageStore.WriteAsync)))
        {
            await Task.Delay(10);
        }

        // Act
        for (var i = 0; i < 5; i++)
        {
            writer.Submit(Record($"req_{i}"));
        }

        gate.SetResult();
        await writer.WaitForIdleAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        await writer.StopAsync(CancellationToken.None);

        // Assert: every record landed, and the log says the transaction was refused.
        Assert.Equal(["req_0", "req_1", "req_2", "req_3", "req_4", "req_first"], written.Order());
        Assert.Contains("A transaction of 5 usage records for key", _logs.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("UsageRecordLost", _logs.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_RetriesFailedWrites_UntilTheyLand()
    {
        // Arrange
        var attempts = 0;
        _store.WriteAsync(Arg.Any<UsageRecord>(), Arg.Any<CancellationToken>()).Returns(_ =>
            ++attempts < 3 ? Task.FromException(new StorageUnavailableException("down")) : Task.CompletedTask);
        using var writer = Writer(maxAttempts: 5);
        await writer.StartAsync(CancellationToken.None);

        // Act
        writer.Submit(Record("req_1"));
        await writer.WaitForIdleAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Equal(3, attempts);
        Assert.DoesNotContain("UsageRecordLost", _logs.Text, StringComparison.Ordinal);
        await writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Submit_LogsTheWholeRecord_WhenItCanNeverBeWritten()
    {
        // Arrange
        _store.WriteAsync(Arg.Any<UsageRecord>(), Arg.Any<CancellationToken>()).ThrowsAsync(new StorageUnavailableException("down"));
        using var writer = Writer(maxAttempts: 2);
        await writer.StartAsync(CancellationToken.None);

        // Act
        writer.Submit(Record("req_lost"));
        await writer.WaitForIdleAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        // Assert: a structured critical event with the record, so the usage table can be repaired.
        Assert.Contains("Critical", _logs.Text, StringComparison.Ordinal);
        Assert.Contains("req_lost", _logs.Text, StringComparison.Ordinal);
        Assert.Contains("\"outputTokens\":42", _logs.Text, StringComparison.Ordinal);
        await writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task StoppedAsync_FlushesRecordsStillQueued()
    {
        // Arrange: storage fails until shutdown, then works.
        var healthy = false;
        var written = new List<string>();
        _store.WriteAsync(Arg.Any<UsageRecord>(), Arg.Any<CancellationToken>()).Returns(call =>
        {
            if (!healthy)
            {
                return Task.FromException(new StorageUnavailableException("down"));
            }

            lock (written)
            {
                written.Add(call.Arg<UsageRecord>().RequestId);
            }

            return Task.CompletedTask;
        });
        using var writer = Writer(maxAttempts: 50);
        await writer.StartAsync(CancellationToken.None);
        writer.Submit(Record("req_a"));
        writer.Submit(Record("req_b"));
        await Task.Delay(300);

        // Act
        healthy = true;
        await writer.StopAsync(CancellationToken.None);
        await writer.StoppedAsync(CancellationToken.None);

        // Assert
        Assert.Equal(["req_a", "req_b"], written.Order());
        Assert.Equal(0, writer.Outstanding);
    }

    private UsageWriter Writer(int maxAttempts, int writers = 2, TimeSpan? batchWindow = null)
    {
        var options = Options.Create(new GatewayOptions
        {
            Usage = new UsageOptions
            {
                MaxAttempts = maxAttempts,
                FirstRetryDelay = TimeSpan.FromMilliseconds(20),
                MaxRetryDelay = TimeSpan.FromMilliseconds(50),
                Writers = writers,
                BatchWindow = batchWindow ?? TimeSpan.FromMilliseconds(50),
            },
        });
        var factory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));
        return new UsageWriter(_store, TimeProvider.System, options, factory.CreateLogger<UsageWriter>());
    }

    private static UsageRecord Record(string requestId) => new()
    {
        RequestId = requestId,
        KeyId = "key_0123456789abcdef",
        Endpoint = "messages",
        StartedAt = DateTimeOffset.UtcNow,
        State = UsageState.Complete,
        OutputTokens = 42,
    };
}
