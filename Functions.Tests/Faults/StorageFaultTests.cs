using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Faults;

/// <summary>
/// Storage faults under flowing calls (docs/faults.md): Azurite stops and starts again while calls stream through the
/// gateway, and the gateway itself is stopped gracefully mid-load. Every answered call ends with exactly one usage
/// record: counted, none missing, none doubled.
/// </summary>
public sealed class StorageFaultTests
{
    [Fact]
    public async Task StorageStopsAndStartsUnderLoad_CachedKeysKeepWorking_LookupsGet529_AndEveryAnsweredCallIsRecordedOnce()
    {
        // Arrange: an Azurite of our own, on disk, so it can stop and come back with its data; two keys, one cached.
        var location = Directory.CreateTempSubdirectory("qhaigc-azurite-").FullName;
        var azurite = await AzuriteServer.StartAsync(location: location);
        try
        {
            var environment = GatewayTestEnvironment.On(azurite);
            var (cachedSecret, cachedKey) = await environment.CreateKeyAsync("cached");
            var (uncachedSecret, _) = await environment.CreateKeyAsync("not-cached");
            await using var upstream = await FakeAnthropicUpstream.StartAsync();
            var settings = environment.Settings(upstream.GatewaySettings());
            settings["Gateway:Usage:FirstRetryDelay"] = "00:00:00.100";
            settings["Gateway:Usage:MaxRetryDelay"] = "00:00:00.500";
            settings["Gateway:Usage:MaxAttempts"] = "1000";
            await using var gateway = await StandaloneGatewayHost.StartAsync(settings);
            using var http = RawClient.Create(gateway.BaseAddress);
            using (var warm = await http.SendAsync(RawClient.Messages(cachedSecret, RawClient.Body(FakeAnthropicUpstream.Models.Text))))
            {
                Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
            }

            await using var load = new CallLoad(gateway.BaseAddress, cachedSecret, workers: 3);
            await load.WaitForMoreAsync(20, TimeSpan.FromSeconds(30));

            // Act: storage goes down while calls flow ...
            await azurite.DisposeAsync();
            await load.WaitForMoreAsync(40, TimeSpan.FromSeconds(30));
            using var lookup = await http.SendAsync(RawClient.Messages(uncachedSecret, RawClient.Body(FakeAnthropicUpstream.Models.Text)));
            using var unknown = await http.SendAsync(RawClient.Messages("sk-qh-never-issued-000000000000000000000000000000", RawClient.Body("m")));

            // ... and comes back.
            azurite = await AzuriteServer.StartAsync(azurite.Port, location);
            await load.WaitForMoreAsync(20, TimeSpan.FromSeconds(30));
            await load.StopAsync();
            await gateway.Services.GetRequiredService<UsageWriter>().WaitForIdleAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

            // Assert: during the outage, a key that needs a lookup gets a clear, retryable 529 in Claude's shape.
            await GatewayAssert.ErrorAsync(lookup, 529, "overloaded_error");
            await GatewayAssert.ErrorAsync(unknown, 529, "overloaded_error");
            Assert.Equal("true", RawClient.Header(lookup, "x-should-retry"));

            // ... the cached key never noticed, and every answered call has exactly one record.
            var calls = load.Calls;
            Assert.All(calls, static c => Assert.True(c.Status == 200 && c.BodyComplete, $"{c.RequestId}: {c.Status}"));
            var records = await environment.AllUsageAsync(cachedKey.Id);
            var recorded = records.Select(static r => r.RequestId).ToList();
            Assert.Equal(recorded.Count, recorded.Distinct().Count());
            Assert.Equal(calls.Count + 1, recorded.Count);
            Assert.All(calls, c => Assert.Contains(c.RequestId, recorded));
            Assert.All(records, static r => Assert.Equal(UsageState.Complete, r.State));
            Assert.Equal(records.Count * 15L, records.Sum(static r => r.OutputTokens));
            Assert.DoesNotContain("UsageRecordLost", gateway.CapturedLogs, StringComparison.Ordinal);
        }
        finally
        {
            await azurite.DisposeAsync();
            Directory.Delete(location, recursive: true);
        }
    }

    [Fact]
    public async Task GatewayStopsGracefullyMidLoad_NoAnsweredCallLosesItsRecord()
    {
        // Arrange: calls that take a moment upstream, so some are in flight when the gateway is told to stop.
        var environment = await GatewayTestEnvironment.CreateAsync();
        var (secret, key) = await environment.CreateKeyAsync();
        await using var upstream = await FakeAnthropicUpstream.StartAsync();
        upstream.SlowFirstByteDelay = TimeSpan.FromMilliseconds(300);
        var gateway = await StandaloneGatewayHost.StartAsync(environment.Settings(upstream.GatewaySettings()));
        var load = new CallLoad(gateway.BaseAddress, secret, workers: 6, model: FakeAnthropicUpstream.Models.SlowFirstByte);
        await load.WaitForMoreAsync(12, TimeSpan.FromSeconds(30));

        // Act: a graceful stop while calls are in flight (at the moment a call is counted on both sides, none may be:
        // wait for one that is); the load stops once the gateway is gone.
        var inFlight = upstream.MessageCalls - load.Completed;
        for (var wait = 0; inFlight <= 0 && wait < 200; wait++)
        {
            await Task.Delay(5);
            inFlight = upstream.MessageCalls - load.Completed;
        }

        await gateway.DisposeAsync();
        await load.DisposeAsync();

        // Assert: every call that got an answer has its one record, written by the shutdown flush at the latest.
        var calls = load.Calls;
        var records = await environment.AllUsageAsync(key.Id);
        var recorded = records.Select(static r => r.RequestId).ToList();
        Assert.True(inFlight > 0, "No call was in flight when the gateway stopped.");
        Assert.Equal(recorded.Count, recorded.Distinct().Count());
        Assert.All(calls, c => Assert.Contains(c.RequestId, recorded));
        Assert.All(calls, static c => Assert.True(c.Status == 200 && c.BodyComplete, $"{c.RequestId}: {c.Status}"));
        Assert.Equal(calls.Count, recorded.Count);
        Assert.DoesNotContain("UsageRecordLost", gateway.CapturedLogs, StringComparison.Ordinal);
    }
}
