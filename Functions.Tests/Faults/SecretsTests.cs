using System.Net;
using System.Net.Sockets;
using System.Text;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Models = Qhaigc.Functions.Tests.TestDoubles.FakeAnthropicUpstream.Models;

namespace Qhaigc.Functions.Tests.Faults;

/// <summary>
/// Secrets (docs/faults.md). Every gateway of the test run logs at Trace into <see cref="SecretScanningLoggerProvider"/>, which
/// checks each line against every client key, upstream key, admin key and prompt canary the run handed out, and
/// fails the test whose gateway logged one; every span, metric point and log record a test gateway exports is checked the
/// same way (<see cref="TelemetryCapture"/>). Here: a tour of every endpoint and fault path with marked prompts; client
/// headers that try to choose where the gateway connects; hop-by-hop and credential headers that must stay put; and
/// the admin key compared as a SHA-256 digest in constant time, so near misses are all refused alike.
/// </summary>
public sealed class SecretsTests
{
    private const string PromptCanary = "qhaigc-secrets-tour-prompt-canary";

    [Fact]
    public async Task FullTour_LogsNoClientKey_UpstreamKey_AdminKey_OrPromptText()
    {
        // Arrange: a prompt marker the logs must never hold, and a gateway with a working and a dead upstream.
        KnownSecrets.Register(PromptCanary);
        var deadPort = FreePort.Next();
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone, configure: s =>
        {
            s["Gateway:Upstreams:anthropic:Models"] = "fake-*";
            s["Gateway:Upstreams:dead:Kind"] = "anthropic";
            s["Gateway:Upstreams:dead:BaseUrl"] = $"http://127.0.0.1:{deadPort}/";
            s["Gateway:Upstreams:dead:ApiKey"] = "sk-ant-dead-upstream-secret-0000000000";
            s["Gateway:Upstreams:dead:Models"] = "dead-*";
            s["Gateway:Resilience:FirstRetryDelay"] = "00:00:00.010";
            s["Gateway:Resilience:BreakerFailureThreshold"] = "0";
        });
        var (disabled, _) = await scenario.Environment.CreateKeyAsync("disabled", disabled: true);
        using var http = scenario.Http();
        var prompt = $"{PromptCanary}: my password is hunter2";

        // Act: every endpoint, answers and refusals, and every upstream fault, each call carrying the marked prompt.
        var models = new[]
        {
            Models.Text, Models.ToolUse, Models.Thinking, Models.Overloaded, Models.RateLimited, Models.BadRequest, Models.HtmlError,
            Models.MidStreamError, Models.ErrorFirst, Models.Cut, Models.ResetBeforeFirstByte, Models.ResetBeforeFirstEvent,
            Models.NotJson, Models.MalformedFirstEvent, Models.MalformedMidStream, "dead-text",
        };
        foreach (var model in models)
        {
            foreach (var stream in new[] { false, true })
            {
                using var response = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(model, stream, text: prompt)));
                await response.Content.ReadAsByteArrayAsync();
            }
        }

        var calls = new List<HttpRequestMessage>
        {
            RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text, text: prompt), path: "v1/messages/count_tokens"),
            RawClient.Messages(scenario.Secret, $$"""{"model":"fake-text","stream":true,"messages":[{"role":"user","content":"{{prompt}}"}]}""", path: "v1/chat/completions"),
            RawClient.Messages(scenario.Secret, $$"""{"model":"fake-text","messages":[{"role":"user","content":"{{prompt}}"}],"style":"claude"}""", path: "v1/chat/completions"),
            RawClient.Messages(scenario.Secret, $$"""{"model":"fake-text","max_tokens":1,"messages":[{"role":"user","content":"{{prompt}}"}],"bad json"""),
            RawClient.Messages(scenario.Secret, Encoding.Latin1.GetString([.. Encoding.UTF8.GetBytes($$"""{"model":"fake-text","max_tokens":1,"messages":[{"role":"user","content":"{{prompt}}"""), 0xFF, .. "\"}]}"u8])),
            RawClient.Messages(disabled, RawClient.Body(Models.Text, text: prompt)),
            RawClient.Messages(scenario.Secret + "x", RawClient.Body(Models.Text, text: prompt)),
            RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text, text: prompt), version: "not-a-version"),
            Admin(HttpMethod.Post, "manage/keys", GatewayTestEnvironment.AdminKey, """{"name":"from-the-tour","models":["fake-*"]}"""),
            Admin(HttpMethod.Get, "manage/keys", GatewayTestEnvironment.AdminKey),
            Admin(HttpMethod.Get, "manage/usage?from=2000-01-01", GatewayTestEnvironment.AdminKey),
            Admin(HttpMethod.Get, "manage/keys", GatewayTestEnvironment.AdminKey + "-wrong"),
            Admin(HttpMethod.Get, "manage/keys", scenario.Secret),
            new(HttpMethod.Get, "v1/models") { Headers = { { "x-api-key", scenario.Secret } } },
        };
        foreach (var call in calls)
        {
            using (call)
            {
                using var response = await http.SendAsync(call);
                var body = await response.Content.ReadAsStringAsync();
                if (call.RequestUri!.OriginalString == "manage/keys" && call.Method == HttpMethod.Post)
                {
                    // The new key's secret is shown once, here; it must not reach the logs either.
                    KnownSecrets.Register(System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("key").GetString());
                }
            }
        }

        // ... and a client that leaves mid-stream (no draining: it really leaves).
        using (var leavingClient = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = scenario.Host.BaseAddress })
        using (var leaving = await leavingClient.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body(Models.Stall, stream: true, text: prompt)),
                   HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.True(await (await leaving.Content.ReadAsStreamAsync()).ReadAsync(new byte[16]) > 0);
        }

        await scenario.Upstream!.StreamAborted.WaitAsync(TimeSpan.FromSeconds(10));

        // Assert: the tour did log (faults included), and no line of this gateway, nor of any gateway so far in the
        // run, holds a secret or the prompt.
        var logs = scenario.Host.CapturedLogs;
        Assert.Contains("failed mid-stream", logs, StringComparison.Ordinal);
        Assert.Contains("failed before the first byte", logs, StringComparison.Ordinal);
        Assert.Null(KnownSecrets.FindIn(logs));
        Assert.DoesNotContain("hunter2", logs, StringComparison.Ordinal);
        Assert.Empty(SecretScanningLoggerProvider.AllViolations);
        Assert.True(SecretScanningLoggerProvider.LinesScanned > 0);

        // ... nor any span, metric point or log record it exported (every test gateway's exports are scanned as they
        // arrive; the tour's own included its failures and its refusals).
        var telemetry = scenario.Host.Telemetry!;
        telemetry.FlushMetrics?.Invoke();
        Assert.Contains(telemetry.Spans, static s => s.Attributes.ContainsKey("error.type"));
        Assert.Contains(telemetry.Metrics, static m => m.Name == "qhaigc.refusals");
        Assert.Contains(telemetry.Logs, static l => l.Text.Contains("failed before the first byte", StringComparison.Ordinal));
        Assert.Empty(telemetry.Violations);
        Assert.Empty(TelemetryCapture.AllViolations);
        Assert.True(TelemetryCapture.ItemsScanned > 0);
    }

    [Fact]
    public async Task ClientHeaders_NeverChooseWhereTheGatewayConnects()
    {
        // Arrange: a listener the gateway must never reach, named every way a client might try.
        using var sentinel = new TcpListener(IPAddress.Loopback, 0);
        sentinel.Start();
        var elsewhere = $"127.0.0.1:{((IPEndPoint)sentinel.LocalEndpoint).Port}";
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone);
        using var http = scenario.Http();

        // Act
        using var request = RawClient.Messages(scenario.Secret, RawClient.Body(Models.Text));
        request.Headers.Host = elsewhere;
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", elsewhere);
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "http");
        request.Headers.TryAddWithoutValidation("Forwarded", $"host={elsewhere};proto=http");
        request.Headers.TryAddWithoutValidation("X-Original-URL", $"http://{elsewhere}/v1/messages");
        request.Headers.TryAddWithoutValidation("X-Rewrite-URL", $"http://{elsewhere}/v1/messages");
        request.Headers.TryAddWithoutValidation("anthropic-base-url", $"http://{elsewhere}");
        using var response = await http.SendAsync(request);
        var absoluteForm = await SendRawAsync(scenario.Host.BaseAddress.Port,
            $"POST http://{elsewhere}/v1/messages HTTP/1.1\r\nHost: {elsewhere}\r\nx-api-key: {scenario.Secret}\r\nanthropic-version: 2023-06-01\r\n" +
            $"content-type: application/json\r\nContent-Length: {RawClient.Body(Models.Text).Length}\r\nConnection: close\r\n\r\n{RawClient.Body(Models.Text)}");

        // Assert: both answered by the configured upstream; nothing connected to the named address.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("HTTP/1.1 200", absoluteForm, StringComparison.Ordinal);
        Assert.Equal(2, scenario.Upstream!.MessageCalls);
        Assert.All(scenario.Upstream.Received, r => Assert.NotEqual(elsewhere, r.Headers["host"]));
        Assert.False(sentinel.Pending());
    }

    [Fact]
    public async Task HopByHopHeadersAndClientCredentials_AreNeverForwardedUpstream()
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone);
        using var http = scenario.Http();
        var body = RawClient.Body(Models.Text, stream: true);
        var request = "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                      $"x-api-key: {scenario.Secret}\r\nAuthorization: Bearer {scenario.Secret}\r\nanthropic-version: 2023-06-01\r\n" +
                      "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n" +
                      "TE: trailers\r\nTrailer: x-trailer\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\nProxy-Connection: keep-alive\r\n" +
                      "Cookie: session=abc\r\nX-Forwarded-For: 10.1.2.3\r\nx-stainless-retry-count: 1\r\nanthropic-workspace-id: ws-1\r\n" +
                      $"content-type: application/json\r\nContent-Length: {body.Length}\r\n\r\n{body}";

        // Act: raw bytes, because an HTTP client library rewrites Connection and friends itself. (Kestrel hands the
        // application only the Connection tokens it knows, so a client's own hop-by-hop names are covered by the
        // HeaderPolicy unit test: only anthropic-* headers are ever candidates.)
        var response = await SendRawAsync(scenario.Host.BaseAddress.Port, request, untilEnd: "event: message_stop");

        // Assert: the upstream saw its own key, the forwardable anthropic-* header, and none of the rest.
        Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
        var received = Assert.Single(scenario.Upstream!.Received).Headers;
        Assert.Equal(FakeAnthropicUpstream.UpstreamKey, received["x-api-key"]);
        Assert.Equal("ws-1", received["anthropic-workspace-id"]);
        foreach (var name in new[] { "authorization", "connection", "keep-alive", "te", "trailer", "proxy-authorization", "proxy-connection", "cookie", "x-forwarded-for", "x-stainless-retry-count" })
        {
            Assert.False(received.ContainsKey(name), $"{name} reached the upstream: {string.Join("; ", received.Select(static h => h.Key + "=" + h.Value))}");
        }

        Assert.DoesNotContain(received.Values, v => v.Contains(scenario.Secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AdminKey_NearMissesAreAllRefused_OnlyTheExactKeyPasses()
    {
        // Arrange: the comparison is of SHA-256 digests with CryptographicOperations.FixedTimeEquals, so how much of a
        // guess matches (a first, middle or last character wrong; a prefix; an extension) changes nothing observable.
        // (Whitespace around a header value is not part of it in HTTP, so it is not a near miss.)
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone, withAnthropicUpstream: false);
        using var http = scenario.Http();
        var key = GatewayTestEnvironment.AdminKey;
        var nearMisses = new[]
        {
            "x" + key[1..], key[..(key.Length / 2)] + "x" + key[(key.Length / 2 + 1)..], key[..^1] + "x", key[..^1], key + "x",
            key.ToUpperInvariant(), key + key, key.Replace("-", "_", StringComparison.Ordinal), "",
        };

        // Act
        var statuses = new List<int>();
        foreach (var guess in nearMisses)
        {
            using var response = await http.SendAsync(Admin(HttpMethod.Get, "manage/keys", guess));
            statuses.Add((int)response.StatusCode);
            if (guess.Length > 0)
            {
                await GatewayAssert.ErrorAsync(response, 401, "authentication_error");
            }
        }

        using var exact = await http.SendAsync(Admin(HttpMethod.Get, "manage/keys", key));

        // Assert
        Assert.All(statuses, static s => Assert.Equal(401, s));
        Assert.Equal(HttpStatusCode.OK, exact.StatusCode);
    }

    private static HttpRequestMessage Admin(HttpMethod method, string path, string key, string? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        return request;
    }

    private static async Task<string> SendRawAsync(int port, string request, string? untilEnd = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        if (untilEnd is null)
        {
            return await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        // A kept-alive connection: read until the answer's end marker.
        var text = new StringBuilder();
        while (!text.ToString().Contains(untilEnd, StringComparison.Ordinal))
        {
            var line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.NotNull(line);
            text.Append(line).Append('\n');
        }

        return text.ToString();
    }
}
