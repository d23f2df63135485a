using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;
using Xunit.Abstractions;

namespace Qhaigc.Functions.Tests.Faults;

/// <summary>
/// A sustained run (docs/faults.md): autocannon (pinned in <c>tools/load</c>) keeps connections busy with alternating
/// streaming and non-streaming calls through the gateway to a fake upstream on loopback. At the end the gateway's GC
/// heap and thread count are back near where they started, and every answered call is in the usage table.
/// CI runs 20 s; the full five minutes: <c>QHAIGC_SOAK_SECONDS=300 dotnet test --filter SoakTests</c>.
/// </summary>
[Collection(SoakCollectionDefinition.Name)]
public sealed class SoakTests(ITestOutputHelper output)
{
    private const long HeapGrowthLimit = 64L * 1024 * 1024;
    private const int ThreadGrowthLimit = 16;

    /// <summary>
    /// Calls per second (0: as fast as the gateway answers). A fake upstream answers at once, so unpaced the gateway
    /// serves a few thousand calls a second on two cores, more than the usage writer's 4 single-row writes to Azurite
    /// drain: the backlog then grows in memory until <c>Gateway:Usage:QueueCapacity</c>. Paced at a rate the writer
    /// sustains, memory must stay flat and every call must be recorded.
    /// </summary>
    private const int DefaultRate = 400;

    [Fact]
    public async Task SustainedMixedLoad_LeavesMemoryAndThreadsFlat_AndEveryCallRecorded()
    {
        // Arrange: logging at Warning, as in production (host.json), so the test's own log capture does not grow.
        var seconds = Setting("QHAIGC_SOAK_SECONDS", 20);
        var connections = Setting("QHAIGC_SOAK_CONNECTIONS", 8);
        var rate = Setting("QHAIGC_SOAK_RATE", DefaultRate);
        var environment = await GatewayTestEnvironment.CreateAsync();
        var (warmSecret, _) = await environment.CreateKeyAsync("warm-up");
        var (secret, key) = await environment.CreateKeyAsync("soak");
        await using var upstream = await FakeAnthropicUpstream.StartAsync();
        upstream.KeepRequests = false;
        await using var gateway = await StandaloneGatewayHost.StartAsync(environment.Settings(upstream.GatewaySettings()), minimumLevel: LogLevel.Warning);
        var writer = gateway.Services.GetRequiredService<UsageWriter>();

        // A short warm-up with another key: JIT, pools and connections reach their working size before the baseline.
        await RunLoadAsync(gateway.BaseAddress, warmSecret, seconds: 3, connections, rate);
        await writer.WaitForIdleAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        var before = Measure();

        // Act
        var load = await RunLoadAsync(gateway.BaseAddress, secret, seconds, connections, rate);
        await writer.WaitForIdleAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(120));
        var after = await SettleAsync(before);
        var records = await environment.AllUsageAsync(key.Id);

        // Assert: the load tool saw only successes ...
        output.WriteLine($"load: {load}");
        output.WriteLine($"before: {before}; after: {after}; records: {records.Count}");
        var ok = load.GetProperty("ok").GetInt64();
        Assert.True(ok > 0, load.ToString());
        Assert.Equal(0, load.GetProperty("non2xx").GetInt64());
        Assert.Equal(0, load.GetProperty("errors").GetInt64());
        Assert.Equal(0, load.GetProperty("timeouts").GetInt64());

        // ... every answered call has its one record (a call cut by the end of the run may add a cancelled one) ...
        Assert.Equal(records.Count, records.Select(static r => r.RequestId).Distinct().Count());
        var complete = records.Count(static r => r.State == UsageState.Complete);
        Assert.All(records, static r => Assert.Contains(r.State, new[] { UsageState.Complete, UsageState.Cancelled }));
        Assert.InRange(complete, ok, ok + connections);
        Assert.InRange(records.Count, ok, ok + connections);
        Assert.Equal(complete * 15L, records.Where(static r => r.State == UsageState.Complete).Sum(static r => r.OutputTokens));

        // ... and memory and threads are flat.
        Assert.True(after.Heap - before.Heap < HeapGrowthLimit, $"GC heap {before.Heap / 1_048_576} MB -> {after.Heap / 1_048_576} MB");
        Assert.True(after.Threads - before.Threads <= ThreadGrowthLimit, $"threads {before.Threads} -> {after.Threads}");
        Assert.DoesNotContain("UsageRecordLost", gateway.CapturedLogs, StringComparison.Ordinal);
    }

    /// <summary>Runs <c>tools/load/soak.js</c> (autocannon) and returns its JSON summary.</summary>
    private static async Task<JsonElement> RunLoadAsync(Uri gateway, string secret, int seconds, int connections, int rate)
    {
        var script = RepositoryPaths.Combine("tools", "load", "soak.js");
        var start = new ProcessStartInfo("node")
        {
            ArgumentList =
            {
                script, gateway.ToString(), secret, FakeAnthropicUpstream.Models.Text,
                seconds.ToString(CultureInfo.InvariantCulture), connections.ToString(CultureInfo.InvariantCulture), rate.ToString(CultureInfo.InvariantCulture),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryPaths.Combine("tools", "load"),
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + 120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var text = await stdout;
        Assert.True(process.ExitCode == 0, $"soak.js exited {process.ExitCode}: {await stderr}");
        return JsonDocument.Parse(text.Trim().Split('\n')[^1]).RootElement.Clone();
    }

    /// <summary>Waits (at most 60 s) for the thread pool to retire the threads the load added, then measures.</summary>
    private static async Task<Snapshot> SettleAsync(Snapshot before)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var now = Measure();
        while (now.Threads - before.Threads > ThreadGrowthLimit / 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            now = Measure();
        }

        return now;
    }

    private static Snapshot Measure()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        return new Snapshot(GC.GetTotalMemory(forceFullCollection: true), process.WorkingSet64, process.Threads.Count, ThreadPool.ThreadCount);
    }

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    private readonly record struct Snapshot(long Heap, long WorkingSet, int Threads, int PoolThreads)
    {
        public override string ToString() =>
            $"GC heap {Heap / 1_048_576.0:0.0} MB, working set {WorkingSet / 1_048_576.0:0} MB, {Threads} threads ({PoolThreads} in the pool)";
    }
}
