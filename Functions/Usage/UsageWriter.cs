using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Telemetry;

namespace Qhaigc.Functions.Usage;

/// <summary>
/// Writes usage records after the response is complete, off the request path: a bounded in-memory queue, a few
/// concurrent writers, retries with exponential backoff, a final flush on shutdown. A record that still cannot be
/// written is logged as a structured <c>UsageRecordLost</c> event holding the whole record, so nothing is dropped
/// silently and the usage table can be repaired from the logs.
/// </summary>
public sealed partial class UsageWriter : BackgroundService, IHostedLifecycleService, IUsageSink
{
    private readonly IUsageStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<UsageWriter> _logger;
    private readonly UsageOptions _options;
    private readonly Channel<Pending> _queue;
    /// <summary>Records written in one request at most (Table Storage's transaction limit).</summary>
    private const int MaxBatch = 100;

    private readonly ConcurrentQueue<Pending> _retries = new();
    private long _outstanding;

    public UsageWriter(IUsageStore store, TimeProvider time, IOptions<GatewayOptions> options, ILogger<UsageWriter> logger)
    {
        _store = store;
        _time = time;
        _logger = logger;
        _options = options.Value.Usage;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });
    }

    /// <summary>Records accepted but not yet written or given up on.</summary>
    public long Outstanding => Interlocked.Read(ref _outstanding);

    public void Submit(UsageRecord record)
    {
        Interlocked.Increment(ref _outstanding);
        if (!_queue.Writer.TryWrite(new Pending(record, 0, default)))
        {
            Lost(record, "queue full or writer stopped", null);
        }
    }

    /// <summary>Waits until every record submitted so far is written or given up on.</summary>
    public async Task WaitForIdleAsync(CancellationToken cancellationToken)
    {
        while (Outstanding > 0)
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var workers = new Task[Math.Max(1, _options.Writers) + 1];
        for (var i = 0; i < workers.Length - 1; i++)
        {
            workers[i] = WriteLoopAsync(stoppingToken);
        }

        workers[^1] = RetryLoopAsync(stoppingToken);
        return Task.WhenAll(workers);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Runs after every hosted service has stopped, the web server included, so calls that were still being answered
    /// during shutdown have submitted their records: everything queued or waiting for a retry gets one last try.
    /// </summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        var remaining = new List<Pending>();
        while (_queue.Reader.TryRead(out var pending))
        {
            remaining.Add(pending);
        }

        while (_retries.TryDequeue(out var pending))
        {
            remaining.Add(pending);
        }

        if (remaining.Count == 0)
        {
            return;
        }

        Log.Flushing(_logger, remaining.Count);
        var batches = remaining.GroupBy(static p => p.Record.KeyId, StringComparer.Ordinal).SelectMany(static g => g.Chunk(MaxBatch));
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.Writers) },
            async (batch, _) =>
            {
                try
                {
                    await _store.WriteBatchAsync(Array.ConvertAll(batch, static p => p.Record), cancellationToken);
                    Interlocked.Add(ref _outstanding, -batch.Length);
                    return;
                }
                catch (Exception)
                {
                    // One by one below, so that only the records that really cannot be written are reported lost.
                }

                foreach (var pending in batch)
                {
                    try
                    {
                        await _store.WriteAsync(pending.Record, cancellationToken);
                        Interlocked.Decrement(ref _outstanding);
                    }
                    catch (Exception exception)
                    {
                        Lost(pending.Record, "shutdown", exception);
                    }
                }
            });
    }

    private async Task WriteLoopAsync(CancellationToken stoppingToken)
    {
        var taken = new List<Pending>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                if (_options.BatchWindow > TimeSpan.Zero && _queue.Reader.Count < MaxBatch)
                {
                    // At a few calls a second, gather what arrives within the window: one table transaction per key
                    // instead of one request per call costs the gateway, the store and the operator's transaction bill
                    // far less (docs/performance.md). Real time, not the injected clock: this is pacing, not a business time.
                    await Task.Delay(_options.BatchWindow, stoppingToken);
                }

                // Whatever is waiting, up to a batch: under load one table transaction per key replaces many requests,
                // so the writer keeps up with the calls instead of piling them up in memory.
                taken.Clear();
                while (taken.Count < MaxBatch && !stoppingToken.IsCancellationRequested && _queue.Reader.TryRead(out var pending))
                {
                    taken.Add(pending);
                }

                foreach (var group in taken.GroupBy(static p => p.Record.KeyId, StringComparer.Ordinal))
                {
                    var batch = group.ToList();
                    if (batch.Count == 1)
                    {
                        await WriteOnceAsync(batch[0], stoppingToken);
                    }
                    else
                    {
                        await WriteBatchAsync(batch, stoppingToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Every record taken was handed to a write, which queues it for StoppedAsync if the stop cut it short.
        }
    }

    private async Task WriteBatchAsync(List<Pending> batch, CancellationToken stoppingToken)
    {
        try
        {
            await _store.WriteBatchAsync(batch.ConvertAll(static p => p.Record), stoppingToken);
            Interlocked.Add(ref _outstanding, -batch.Count);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: StoppedAsync gives them their last try.
            foreach (var pending in batch)
            {
                _retries.Enqueue(pending);
            }
        }
        catch (StorageUnavailableException exception)
        {
            // Storage is down: every record waits for its retry, as a single write's would.
            foreach (var pending in batch)
            {
                Retry(pending, exception);
            }
        }
        catch (Exception exception)
        {
            // Storage refused the batch (a row it will not take, say): one by one, so one bad record holds back no other.
            // Said, because a transaction refused every time would double the writes without anything else showing it.
            Log.BatchRefused(_logger, batch.Count, batch[0].Record.KeyId, exception);
            foreach (var pending in batch)
            {
                await WriteOnceAsync(pending, stoppingToken);
            }
        }
    }

    private async Task WriteOnceAsync(Pending pending, CancellationToken stoppingToken)
    {
        try
        {
            await _store.WriteAsync(pending.Record, stoppingToken);
            Interlocked.Decrement(ref _outstanding);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: StopAsync gives it its last try.
            _retries.Enqueue(pending);
        }
        catch (Exception exception)
        {
            Retry(pending, exception);
        }
    }

    private void Retry(Pending pending, Exception exception)
    {
        var attempt = pending.Attempt + 1;
        if (attempt >= _options.MaxAttempts)
        {
            Lost(pending.Record, "retries exhausted", exception);
            return;
        }

        var delay = TimeSpan.FromTicks(Math.Min(
            _options.MaxRetryDelay.Ticks, _options.FirstRetryDelay.Ticks * (1L << Math.Min(attempt - 1, 20))));
        Log.WriteFailed(_logger, pending.Record.RequestId, attempt, delay.TotalSeconds, exception);
        _retries.Enqueue(new Pending(pending.Record, attempt, _time.GetUtcNow() + delay));
    }

    private async Task RetryLoopAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), _time, stoppingToken);
                var now = _time.GetUtcNow();
                for (var count = _retries.Count; count > 0 && _retries.TryDequeue(out var pending); count--)
                {
                    if (pending.DueAt <= now)
                    {
                        await _queue.Writer.WriteAsync(pending, stoppingToken);
                    }
                    else
                    {
                        _retries.Enqueue(pending);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Lost(UsageRecord record, string reason, Exception? exception)
    {
        // Logged before it stops counting as outstanding: whoever waits for idle then sees the event.
        Log.RecordLost(_logger, record.RequestId, record.KeyId, reason,
            JsonSerializer.Serialize(record, GatewayJsonContext.Default.UsageRecord), exception);
        GatewayTelemetry.RecordLost();
        Interlocked.Decrement(ref _outstanding);
    }

    private readonly record struct Pending(UsageRecord Record, int Attempt, DateTimeOffset DueAt);

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Warning,
            Message = "Usage record {RequestId} not written (attempt {Attempt}); retrying in {DelaySeconds} s")]
        public static partial void WriteFailed(ILogger logger, string requestId, int attempt, double delaySeconds, Exception exception);

        [LoggerMessage(EventId = 3002, EventName = "UsageRecordLost", Level = LogLevel.Critical,
            Message = "Usage record {RequestId} for key {KeyId} could not be written ({Reason}); record: {UsageRecord}")]
        public static partial void RecordLost(ILogger logger, string requestId, string keyId, string reason, string usageRecord, Exception? exception);

        [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "Flushing {Count} usage records before shutdown")]
        public static partial void Flushing(ILogger logger, int count);

        [LoggerMessage(EventId = 3004, Level = LogLevel.Warning,
            Message = "A transaction of {Count} usage records for key {KeyId} was refused; writing them one by one")]
        public static partial void BatchRefused(ILogger logger, int count, string keyId, Exception exception);
    }
}
