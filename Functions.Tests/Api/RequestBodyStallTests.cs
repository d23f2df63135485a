using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Api;

/// <summary>
/// A client that starts a body and then sends nothing cannot hold a request open: after
/// <c>Gateway:RequestBodyStallTimeout</c> the gateway answers <c>408</c>, in both hosting modes, and records the call.
/// </summary>
public sealed class RequestBodyStallTests
{
    public static TheoryData<string> Modes => GatewayHosts.Modes;

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Messages_CutsAStalledBody_With408(string mode)
    {
        // Arrange: a one-second bound, and a body that sends its first bytes, then nothing.
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false,
            configure: settings => settings["Gateway:RequestBodyStallTimeout"] = "00:00:01");
        var partial = """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":""";
        var started = Stopwatch.GetTimestamp();

        // Act: a raw connection, so nothing on the client's side waits for the body it promised to finish.
        var (status, headers, body) = await SendPartialAsync(scenario.Host.BaseAddress, scenario.Secret, partial, promisedLength: 1000);

        // Assert: refused within a few seconds (the bound plus the time to notice), as a timeout, and recorded.
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(20), $"took {Stopwatch.GetElapsedTime(started)}");
        Assert.True(status == 408, $"{status}: {body}");
        if (mode == GatewayHosts.Standalone)
        {
            var record = await scenario.Environment.WaitForUsageAsync(scenario.Key.Id, headers["request-id"]);
            using var error = JsonDocument.Parse(body);
            Assert.Equal("timeout_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
            Assert.Equal(RequestBodyStallMessage, error.RootElement.GetProperty("error").GetProperty("message").GetString());
            Assert.Equal((UsageState.Failed, 408), (record.State, record.Status));
        }

        // Behind the Functions host, the host's own server (Kestrel's minimum body data rate) cuts the body first, with
        // an empty 408, before the call reaches the worker; the worker's own bound covers a host that would not.
    }

    private const string RequestBodyStallMessage = "The request body stopped arriving before it was complete.";

    /// <summary>Sends the headers and part of the body over a raw socket, then waits for the answer.</summary>
    private static async Task<(int Status, Dictionary<string, string> Headers, string Body)> SendPartialAsync(
        Uri baseAddress, string secret, string partial, int promisedLength)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(baseAddress.Host, baseAddress.Port);
        var stream = client.GetStream();
        var head = $"POST /v1/messages HTTP/1.1\r\nHost: {baseAddress.Authority}\r\nx-api-key: {secret}\r\nanthropic-version: 2023-06-01\r\n" +
                   $"content-type: application/json\r\nContent-Length: {promisedLength}\r\n\r\n{partial}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.FlushAsync();

        using var reader = new StreamReader(stream, Encoding.UTF8);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var statusLine = await reader.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("no answer");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? line;
        while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync(timeout.Token)))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        var length = int.Parse(headers["content-length"], System.Globalization.CultureInfo.InvariantCulture);
        var buffer = new char[length];
        var read = 0;
        while (read < length)
        {
            var count = await reader.ReadAsync(buffer.AsMemory(read), timeout.Token);
            if (count == 0)
            {
                break;
            }

            read += count;
        }

        return (int.Parse(statusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), headers, new string(buffer, 0, read));
    }
}
