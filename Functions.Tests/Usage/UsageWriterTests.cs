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

        // Assert: a structured critical event with the record, so the ledger can be repaired.
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

    private UsageWriter Writer(int maxAttempts)
    {
        var options = Options.Create(new GatewayOptions
        {
            Usage = new UsageOptions { MaxAttempts = maxAttempts, FirstRetryDelay = TimeSpan.FromMilliseconds(20), MaxRetryDelay = TimeSpan.FromMilliseconds(50), Writers = 2 },
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
        State = UsageStates.Complete,
        OutputTokens = 42,
    };
}
