using System.Net.Sockets;
using System.Text;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Upstreams;

/// <summary>
/// Which client headers reach the upstream, sent over a raw connection through the real servers of both hosting modes
/// (docs/wire-contract.md#32-anthropic-beta): the server may fold or trim what the client wrote, and the rule must hold anyway.
/// </summary>
public sealed class HeaderForwardingEndToEndTests
{
    public static TheoryData<string> Modes => GatewayHosts.Modes;

    [Theory]
    [InlineData("keep-alive, Anthropic-Hop")]
    [InlineData("Anthropic-Hop, close")]
    [InlineData("upgrade, Anthropic-Hop")]
    [InlineData("keep-alive\r\nConnection: Anthropic-Hop")]
    public async Task Messages_KeepsAHeaderNamedInConnection_FromTheUpstream_WhateverKestrelFolds(string connection)
    {
        // Arrange: Kestrel keeps only the token it acts on (keep-alive, close, upgrade) and drops the others. The
        // standalone mode is where the gateway is the server; behind the Functions host the host reads Connection.
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone);

        // Act
        var status = await SendAsync(scenario, $"Connection: {connection}\r\nanthropic-hop: not for the upstream\r\n" +
                                               "anthropic-workspace-id: ws-1\r\n");

        // Assert
        Assert.Equal(200, status);
        var received = Assert.Single(scenario.Upstream!.Received);
        Assert.False(received.Headers.ContainsKey("anthropic-hop"), "A header the client named in Connection reached the upstream.");
        Assert.Equal("ws-1", received.Headers["anthropic-workspace-id"]);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Messages_ForwardsAnthropicHeadersAsSent_ExceptThoseTheOperatorDrops(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, configure: static settings =>
            settings["Gateway:Upstreams:anthropic:DropHeaders"] = "anthropic-workspace-id, anthropic-dangerous-direct-browser-access");

        // Act
        var status = await SendAsync(scenario, "anthropic-beta: beta-1, beta-2\r\nanthropic-workspace-id: ws-1\r\n" +
                                               "anthropic-dangerous-direct-browser-access: true\r\nanthropic-custom: kept\r\n");

        // Assert: version and beta as sent, other anthropic-* headers too, but none the operator listed.
        Assert.Equal(200, status);
        var received = Assert.Single(scenario.Upstream!.Received);
        Assert.Equal("2023-06-01", received.Headers["anthropic-version"]);
        Assert.Equal("beta-1,beta-2", received.Headers["anthropic-beta"].Replace(" ", "", StringComparison.Ordinal));
        Assert.Equal("kept", received.Headers["anthropic-custom"]);
        Assert.False(received.Headers.ContainsKey("anthropic-workspace-id"));
        Assert.False(received.Headers.ContainsKey("anthropic-dangerous-direct-browser-access"));
    }

    [Fact]
    public async Task Messages_ReadsEachRequestsOwnConnectionHeader_OnAKeptAliveConnection()
    {
        // Arrange: one connection for every call, so the second and third reuse the first's.
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1 };
        using var http = new HttpClient(handler) { BaseAddress = scenario.Host.BaseAddress };

        // Act
        foreach (var connection in new[] { "anthropic-one", null, "anthropic-two" })
        {
            using var request = RawClient.Messages(scenario.Secret, RawClient.Body(FakeAnthropicUpstream.Models.Text));
            request.Headers.Add("anthropic-one", "1");
            request.Headers.Add("anthropic-two", "2");
            if (connection is not null)
            {
                request.Headers.Connection.Add("keep-alive");
                request.Headers.Connection.Add(connection);
            }

            using var response = await http.SendAsync(request);
            Assert.Equal(200, (int)response.StatusCode);
            await response.Content.ReadAsStringAsync();
        }

        // Assert: each call drops only what its own Connection header names.
        var received = scenario.Upstream!.Received;
        Assert.Equal(3, received.Count);
        Assert.Equal((false, true), (received[0].Headers.ContainsKey("anthropic-one"), received[0].Headers.ContainsKey("anthropic-two")));
        Assert.Equal((true, true), (received[1].Headers.ContainsKey("anthropic-one"), received[1].Headers.ContainsKey("anthropic-two")));
        Assert.Equal((true, false), (received[2].Headers.ContainsKey("anthropic-one"), received[2].Headers.ContainsKey("anthropic-two")));
    }

    /// <summary>One call over a raw socket, with <paramref name="extraHeaders"/> written exactly as given; the answer's status.</summary>
    private static async Task<int> SendAsync(GatewayScenario scenario, string extraHeaders)
    {
        var baseAddress = scenario.Host.BaseAddress;
        var body = RawClient.Body(FakeAnthropicUpstream.Models.Text);
        using var client = new TcpClient();
        await client.ConnectAsync(baseAddress.Host, baseAddress.Port);
        var stream = client.GetStream();
        var head = $"POST /v1/messages HTTP/1.1\r\nHost: {baseAddress.Authority}\r\nx-api-key: {scenario.Secret}\r\n" +
                   $"anthropic-version: 2023-06-01\r\n{extraHeaders}content-type: application/json\r\n" +
                   $"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";
        await stream.WriteAsync(Encoding.UTF8.GetBytes(head));
        await stream.FlushAsync();

        using var reader = new StreamReader(stream, Encoding.UTF8);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var statusLine = await reader.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("no answer");
        return int.Parse(statusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
