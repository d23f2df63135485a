using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;
using Xunit.Abstractions;

namespace Qhaigc.Functions.Tests.Faults;

/// <summary>
/// Storage that is slow, not down (the gray failure; docs/faults.md): Azurite is paused with SIGSTOP for tens of
/// seconds while calls flow, then resumed. A cached key never waits on the key table, a key that is not cached gets a
/// prompt retryable 529 after <c>Gateway:Keys:LookupTimeout</c>, and every answered call's record is written after the
/// resume. The bounds are generous: this tests that nothing waits on storage, not how fast the gateway is.
/// </summary>
[Collection(StoragePauseCollectionDefinition.Name)]
public sealed class StoragePauseTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(16);
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A cached key's call, start to last byte, against a local fake upstream: normally a few milliseconds. The bound
    /// stays below the lookup timeout, so a call that waited for a key read at all would break it, and leaves room for
    /// a busy test machine.
    /// </summary>
    private static readonly TimeSpan CachedKeyBound = TimeSpan.FromSeconds(1.5);

    /// <summary>Margin over the lookup timeout for a key that is not cached.</summary>
    private static readonly TimeSpan LookupMargin = TimeSpan.FromSeconds(1.5);

    [Fact]
    public async Task StoragePaused_CachedKeysAnswerPromptly_NewKeysGetAPrompt529_AndEveryAnsweredCallIsRecordedAfterTheResume()
    {
        // Arrange: an Azurite of our own; a key used once and then idle for longer than its cache time (the case where
        // every call used to wait for two table-read timeouts), and a key never used on this gateway.
        var azurite = await AzuriteServer.StartAsync();
        var paused = false;
        try
        {
            var environment = GatewayTestEnvironment.On(azurite);
            var (knownSecret, knownKey) = await environment.CreateKeyAsync("known");
            var (newSecret, _) = await environment.CreateKeyAsync("new");
            await using var upstream = await FakeAnthropicUpstream.StartAsync();
            var settings = environment.Settings(upstream.GatewaySettings());
            settings["Gateway:Keys:CacheDuration"] = "00:00:02";
            settings["Gateway:Keys:LookupTimeout"] = LookupTimeout.ToString("c", CultureInfo.InvariantCulture);
            settings["Gateway:Usage:FirstRetryDelay"] = "00:00:00.100";
            settings["Gateway:Usage:MaxRetryDelay"] = "00:00:01";
            settings["Gateway:Usage:MaxAttempts"] = "1000";
            await using var gateway = await StandaloneGatewayHost.StartAsync(settings);
            using var http = RawClient.Create(gateway.BaseAddress);
            var warm = await CallAsync(http, knownSecret, stream: false);
            Assert.Equal(200, warm.Status);
            await Task.Delay(TimeSpan.FromSeconds(3));

            // Act: storage stops answering while two clients keep calling with the cached key ...
            Signal(azurite, "STOP");
            paused = true;
            var resumeAt = Stopwatch.StartNew();
            var calls = new ConcurrentQueue<TimedCall>();
            var clients = Enumerable.Range(0, 2).Select(client => Task.Run(async () =>
            {
                using var own = RawClient.Create(gateway.BaseAddress);
                var stream = client == 0;
                while (resumeAt.Elapsed < Pause)
                {
                    stream = !stream;
                    calls.Enqueue(await CallAsync(own, knownSecret, stream) with { StartedAt = resumeAt.Elapsed });
                    // Calls flowing, not a flood: enough to cover the pause without thousands of records to write after it.
                    await Task.Delay(25);
                }
            })).ToArray();

            // ... and a key that is not cached asks for a lookup, twice (the second while the first one's read hangs).
            await Task.Delay(TimeSpan.FromSeconds(4));
            var newKey = await CallAsync(http, newSecret, stream: false);
            var newKeyAgain = await CallAsync(http, newSecret, stream: true);
            await Task.WhenAll(clients);
            Signal(azurite, "CONT");
            paused = false;
            await gateway.Services.GetRequiredService<UsageWriter>().WaitForIdleAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(120));

            // Assert: the cached key never noticed ...
            var answered = calls.ToList();
            output.WriteLine($"{answered.Count} calls during a {Pause.TotalSeconds} s pause; slowest {answered.Max(static c => c.Elapsed).TotalMilliseconds:0} ms, " +
                             $"median {answered.Select(static c => c.Elapsed).Order().ElementAt(answered.Count / 2).TotalMilliseconds:0.0} ms; " +
                             $"not-cached key: {newKey.Elapsed.TotalMilliseconds:0} ms and {newKeyAgain.Elapsed.TotalMilliseconds:0} ms");
            foreach (var slow in answered.OrderByDescending(static c => c.Elapsed).Take(5))
            {
                output.WriteLine($"slow: {slow.Elapsed.TotalMilliseconds:0} ms, ended {slow.StartedAt.TotalSeconds:0.000} s into the pause");
            }

            Assert.True(answered.Count >= 20, $"Only {answered.Count} calls in {Pause.TotalSeconds} s.");
            Assert.All(answered, static c => Assert.True(c.Status == 200 && c.Complete, $"{c.RequestId}: {c.Status}"));
            Assert.All(answered, static c => Assert.True(c.Elapsed < CachedKeyBound, $"{c.RequestId} took {c.Elapsed.TotalMilliseconds:0} ms"));

            // ... the key that needed a lookup got a retryable 529 once the lookup timed out, not later ...
            foreach (var refused in new[] { newKey, newKeyAgain })
            {
                Assert.Equal(529, refused.Status);
                Assert.Contains("overloaded_error", refused.Body, StringComparison.Ordinal);
                Assert.Equal("true", refused.ShouldRetry);
                Assert.True(refused.Elapsed < LookupTimeout + LookupMargin, $"The 529 took {refused.Elapsed.TotalMilliseconds:0} ms");
            }

            // ... and after the resume every answered call has exactly one record.
            var recorded = (await environment.AllUsageAsync(knownKey.Id)).Select(static r => r.RequestId).ToList();
            Assert.Equal(recorded.Count, recorded.Distinct().Count());
            Assert.Equal(answered.Count + 1, recorded.Count);
            Assert.All(answered, c => Assert.Contains(c.RequestId, recorded));
            Assert.DoesNotContain("UsageRecordLost", gateway.CapturedLogs, StringComparison.Ordinal);
        }
        finally
        {
            if (paused)
            {
                Signal(azurite, "CONT");
            }

            await azurite.DisposeAsync();
        }
    }

    private static async Task<TimedCall> CallAsync(HttpClient http, string secret, bool stream)
    {
        var clock = Stopwatch.StartNew();
        using var response = await http.SendAsync(
            RawClient.Messages(secret, RawClient.Body(FakeAnthropicUpstream.Models.Text, stream)), HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStringAsync();
        var elapsed = clock.Elapsed;
        var complete = response.StatusCode == HttpStatusCode.OK &&
                       (stream ? body.EndsWith("data: {\"type\":\"message_stop\"}\n\n", StringComparison.Ordinal) : body.EndsWith('}'));
        return new TimedCall(RawClient.Header(response, "request-id"), (int)response.StatusCode, complete, elapsed, body,
            RawClient.Header(response, "x-should-retry"));
    }

    /// <summary>Sends a signal to the Azurite process: STOP pauses it (connections stay open, nothing answers), CONT resumes it.</summary>
    private static void Signal(AzuriteServer azurite, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill")
        {
            ArgumentList = { "-" + signal, azurite.ProcessId.ToString(CultureInfo.InvariantCulture) },
        });
        kill!.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private sealed record TimedCall(string? RequestId, int Status, bool Complete, TimeSpan Elapsed, string Body, string? ShouldRetry)
    {
        public TimeSpan StartedAt { get; init; }
    }
}
