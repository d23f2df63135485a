using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;
using Models = Qhaigc.Functions.Tests.TestDoubles.FakeAnthropicUpstream.Models;

namespace Qhaigc.Functions.Tests.Faults;

/// <summary>
/// Client faults (docs/faults.md): a client that leaves mid-stream or mid-wait cancels the upstream call within a second and
/// leaves a <c>cancelled</c> record with the tokens produced so far; a slow reader gets the whole answer; a body that
/// is only half sent never reaches the upstream and is recorded as cancelled.
/// </summary>
public sealed class ClientFaultTests
{
    private static readonly TimeSpan CancelWithin = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task ClientDisconnectMidStream_CancelsTheUpstreamWithinASecond_AndRecordsTokensSoFar()
    {
        // Arrange: the upstream streams its start and two text deltas, then waits.
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone);
        // No draining on dispose: the client really leaves at once (SocketsHttpHandler would drain for up to 2 s).
        using var http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = scenario.Host.BaseAddress };
        var response = await http.SendAsync(
            RawClient.Messages(scenario.Secret, RawClient.Body(Models.StallAfterText, stream: true)), HttpCompletionOption.ResponseHeadersRead);
        var requestId = RawClient.Header(response, "request-id")!;
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var deltas = 0;
        while (deltas < 2)
        {
            var line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
            deltas += line == "event: content_block_delta" ? 1 : 0;
        }

        // Act: the client goes away.
        var left = Stopwatch.GetTimestamp();
        response.Dispose();

        // Assert: the upstream saw its call cancelled within a second.
        await scenario.Upstream!.StreamAborted.WaitAsync(TimeSpan.FromSeconds(10));
        var cancelledAfter = Stopwatch.GetElapsedTime(left, scenario.Upstream.StreamAbortedAtTimestamp);
        Assert.True(cancelledAfter < CancelWithin, $"upstream cancelled after {cancelledAfter.TotalMilliseconds} ms");
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, requestId);
        Assert.Equal((UsageState.Cancelled, 200, 25L), (record.State, record.Status, record.InputTokens));
        Assert.True(record.OutputTokens >= 2, $"{record.OutputTokens} output tokens");
        Assert.True(record.Estimated);
        Assert.NotNull(record.TimeToFirstByteMs);
    }

    [Fact]
    public async Task ClientDisconnectWhileWaiting_CancelsTheUpstreamWithinASecond_AndRecordsACancelledCall()
    {
        // Arrange: the upstream takes 30 s before it answers at all.
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone);
        scenario.Upstream!.SlowFirstByteDelay = TimeSpan.FromSeconds(30);
        using var http = scenario.Http();
        using var leave = new CancellationTokenSource();
        var call = http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.SlowFirstByte)), leave.Token);
        while (scenario.Upstream.MessageCalls == 0)
        {
            await Task.Delay(20);
        }

        // Act
        var left = Stopwatch.GetTimestamp();
        await leave.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        // Assert
        await scenario.Upstream.StreamAborted.WaitAsync(TimeSpan.FromSeconds(10));
        var cancelledAfter = Stopwatch.GetElapsedTime(left, scenario.Upstream.StreamAbortedAtTimestamp);
        Assert.True(cancelledAfter < CancelWithin, $"upstream cancelled after {cancelledAfter.TotalMilliseconds} ms");
        var record = Assert.Single(await RetryAndFallbackTests.WaitForRecordsAsync(scenario, 1));
        Assert.Equal((UsageState.Cancelled, 499, 1), (record.State, record.Status, record.UpstreamAttempts));
    }

    [Fact]
    public async Task SlowReader_GetsTheWholeLongStream_AndACompleteRecord()
    {
        // Arrange: 2000 deltas; the client reads 512 bytes at a time and dawdles, so the gateway's writes must wait.
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone);
        using var http = scenario.Http();
        using var response = await http.SendAsync(
            RawClient.Messages(scenario.Secret, RawClient.Body(Models.LongStream, stream: true)), HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();

        // Act
        var received = new MemoryStream();
        var buffer = new byte[512];
        int read;
        var reads = 0;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            received.Write(buffer, 0, read);
            if (++reads % 20 == 0)
            {
                await Task.Delay(5);
            }
        }

        // Assert: every delta, in order, then the end.
        var events = Fixtures.ParseEvents(Encoding.UTF8.GetString(received.ToArray()));
        var texts = events.Where(static e => e.Event == "content_block_delta")
            .Select(static e => JsonDocument.Parse(e.Data).RootElement.GetProperty("delta").GetProperty("text").GetString())
            .ToList();
        Assert.Equal(Enumerable.Range(0, FakeAnthropicUpstream.LongDeltas).Select(static i => i.ToString("D8", System.Globalization.CultureInfo.InvariantCulture)), texts);
        Assert.Equal("message_stop", events[^1].Event);
        var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, RawClient.Header(response, "request-id")!);
        Assert.Equal((UsageState.Complete, 11L, (long)FakeAnthropicUpstream.LongOutputTokens, false),
            (record.State, record.InputTokens, record.OutputTokens, record.Estimated));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task HalfSentBody_ThenDisconnect_NeverReachesTheUpstream_AndIsRecordedAsCancelled(bool reset)
    {
        // Arrange: the key is cached (a client that leaves during its lookup has no key to bill, so no record); the
        // headers promise 1000 bytes and only 100 are sent.
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone);
        using var http = scenario.Http();
        using (var warm = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text))))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        await RetryAndFallbackTests.WaitForRecordsAsync(scenario, 1);
        var body = Encoding.UTF8.GetBytes(RawClient.Body(Models.Text).PadRight(1000));
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, scenario.Host.BaseAddress.Port);
        var socket = client.GetStream();
        var head = $"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: {scenario.Secret}\r\nanthropic-version: 2023-06-01\r\n" +
                   $"content-type: application/json\r\nContent-Length: {body.Length}\r\n\r\n";
        await socket.WriteAsync(Encoding.ASCII.GetBytes(head));
        await socket.WriteAsync(body.AsMemory(0, 100));
        await socket.FlushAsync();
        await WaitForLogAsync(scenario, "ContentLength=1000");

        // Act: the client goes away with the body half sent.
        if (reset)
        {
            client.Client.LingerState = new LingerOption(true, 0);
        }

        client.Close();

        // Assert
        var records = await RetryAndFallbackTests.WaitForRecordsAsync(scenario, 2);
        var record = Assert.Single(records, static r => r.State != UsageState.Complete);
        Assert.Equal((UsageState.Cancelled, 499, (int?)null), (record.State, record.Status, record.UpstreamAttempts));
        Assert.Equal(1, scenario.Upstream!.MessageCalls);
        using var after = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text)));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.DoesNotContain("Unhandled exception", scenario.Host.CapturedLogs, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task WaitForLogAsync(GatewayScenario scenario, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!scenario.Host.CapturedLogs.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"'{text}' never logged:\n{scenario.Host.CapturedLogs}");
            await Task.Delay(20);
        }
    }
}
