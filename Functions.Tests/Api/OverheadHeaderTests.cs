using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Tests.Infrastructure;
using Models = Qhaigc.Functions.Tests.TestDoubles.FakeAnthropicUpstream.Models;

namespace Qhaigc.Functions.Tests.Api;

/// <summary>
/// <c>x-qhaigc-overhead-ms</c> (docs/performance.md): the gateway's own time, without waiting on the upstream or on the client.
/// The waits here are long (a second and more) and the bounds loose, so a busy machine cannot fail them; what they
/// check is what the header counts, not how fast the gateway is.
/// </summary>
public sealed class OverheadHeaderTests
{
    private static readonly TimeSpan UpstreamDelay = TimeSpan.FromSeconds(3);

    public static TheoryData<string, bool> ModesAndStreaming
    {
        get
        {
            var data = new TheoryData<string, bool>();
            foreach (var mode in GatewayHosts.AvailableModes)
            {
                data.Add(mode, false);
                data.Add(mode, true);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(ModesAndStreaming))]
    public async Task OverheadHeader_LeavesOutTheUpstreamsTime_WhenItIsSlowToAnswer(string mode, bool stream)
    {
        // Arrange: the upstream waits 3 s before it sends anything.
        await using var scenario = await GatewayScenario.StartAsync(mode);
        scenario.Upstream!.SlowFirstByteDelay = UpstreamDelay;
        using var http = scenario.Http();
        await WarmUpAsync(http, scenario);

        // Act
        var (response, elapsed) = await TimedSendAsync(http, RawClient.Messages(scenario.Secret, RawClient.Body(Models.SlowFirstByte, stream)));

        // Assert: the answer took the upstream's time; the header does not count it.
        AssertLeftOut(response, elapsed, UpstreamDelay);
    }

    [Theory]
    [MemberData(nameof(ModesAndStreaming))]
    public async Task OverheadHeader_LeavesOutRetryPauses_WhenTheUpstreamFailsFirst(string mode, bool stream)
    {
        // Arrange: the first attempt gets a 529; the retry, after a pause of 1.5 to 3 s, succeeds.
        await using var scenario = await GatewayScenario.StartAsync(mode, configure: settings =>
        {
            settings["Gateway:Resilience:FirstRetryDelay"] = "00:00:03";
            settings["Gateway:Resilience:MaxRetryDelay"] = "00:00:03";
        });
        scenario.Upstream!.FailuresLeft = 1;
        using var http = scenario.Http();
        await WarmUpAsync(http, scenario);

        // Act
        var (response, elapsed) = await TimedSendAsync(http, RawClient.Messages(scenario.Secret, RawClient.Body(Models.Flaky, stream)));

        // Assert
        AssertLeftOut(response, elapsed, TimeSpan.FromSeconds(1.5));
    }

    [Fact]
    public async Task OverheadHeader_LeavesOutTheClientsTime_WhenItsBodyArrivesSlowly()
    {
        // Arrange: the client sends half of its body, pauses 3 s, then sends the rest.
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone);
        using var http = scenario.Http();
        await WarmUpAsync(http, scenario);
        using var request = RawClient.Messages(scenario.Secret, "");
        request.Content = new PausingContent(Encoding.UTF8.GetBytes(RawClient.Body(Models.Text)), UpstreamDelay);
        request.Content.Headers.ContentType = new("application/json");

        // Act
        var (response, elapsed) = await TimedSendAsync(http, request);

        // Assert
        AssertLeftOut(response, elapsed, UpstreamDelay);
    }

    [Fact]
    public void Overhead_CountsTheGatewaysTime_LessWhatItWaited()
    {
        // Arrange: 300 ms of the gateway's own work, then a 400 ms wait on others.
        var httpContext = new DefaultHttpContext();
        var gateway = GatewayContext.Arrive(httpContext, TimeProvider.System);
        Thread.Sleep(300);
        var waitStart = Stopwatch.GetTimestamp();
        Thread.Sleep(400);
        gateway.Waits.AddSince(waitStart);

        // Act
        var overhead = gateway.Overhead;
        var elapsed = gateway.Elapsed;

        // Assert: the work counts, the wait does not.
        Assert.True(overhead >= TimeSpan.FromMilliseconds(295), $"overhead {overhead}");
        Assert.True(overhead <= elapsed - TimeSpan.FromMilliseconds(395), $"overhead {overhead} of {elapsed}");
        Assert.Same(gateway, GatewayContext.Of(httpContext, TimeProvider.System));
    }

    /// <summary>One call first: a fresh process compiles the gateway's code on its first call, which is overhead too, but not the one tested.</summary>
    private static async Task WarmUpAsync(HttpClient http, GatewayScenario scenario)
    {
        using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<(HttpResponseMessage Response, TimeSpan Elapsed)> TimedSendAsync(HttpClient http, HttpRequestMessage request)
    {
        var started = Stopwatch.GetTimestamp();
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return (response, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>The call took at least <paramref name="waited"/>, and the header counts less than a third of it.</summary>
    private static void AssertLeftOut(HttpResponseMessage response, TimeSpan elapsed, TimeSpan waited)
    {
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            // Timers may fire a millisecond early: the call took the wait, give or take that.
            Assert.True(elapsed >= waited - TimeSpan.FromMilliseconds(50), $"answered after {elapsed}");
            var header = RawClient.Header(response, "x-qhaigc-overhead-ms");
            Assert.NotNull(header);
            var overhead = TimeSpan.FromMilliseconds(double.Parse(header, CultureInfo.InvariantCulture));
            Assert.True(overhead < waited / 3, $"overhead {overhead} for a call of {elapsed}");
        }
    }

    /// <summary>A body sent in two halves with a pause between them, as a slow client does.</summary>
    private sealed class PausingContent(byte[] body, TimeSpan pause) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            var half = body.Length / 2;
            await stream.WriteAsync(body.AsMemory(0, half));
            await stream.FlushAsync();
            await Task.Delay(pause);
            await stream.WriteAsync(body.AsMemory(half));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }
}
