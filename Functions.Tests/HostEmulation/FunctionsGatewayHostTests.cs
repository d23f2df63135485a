using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>
/// The emulated host itself, with the real worker: it starts and loads every function, HTTP goes through the host's
/// path with the invocation joined by id, responses stream event by event, aborts cancel, and the worker always stops.
/// </summary>
public sealed class FunctionsGatewayHostTests
{
    [Fact]
    public async Task StartAsync_LoadsEveryFunction_WithTheBuildsRoutes()
    {
        // Arrange: what the SDK wrote into the build output; the worker indexes its functions itself (source-generated).
        var expected = HttpFunctionsOfTheBuild();

        // Act
        var started = Stopwatch.StartNew();
        await using var host = await FunctionsGatewayHost.StartAsync(new Dictionary<string, string?>());
        var startup = started.Elapsed;

        // Assert: the same functions, routes and methods, and the catch-all is tried last whatever the names.
        Assert.Equal(expected.Order(StringComparer.Ordinal), host.Routes.Order(StringComparer.Ordinal));
        Assert.EndsWith("/{*path} -> Fallback", host.Routes[^1], StringComparison.Ordinal);
        Assert.Contains(WorkerChannel.HttpUriCapability, host.WorkerCapabilities.Keys);
        Assert.Equal("true", host.WorkerCapabilities[WorkerChannel.HandlesInvocationCancelCapability], ignoreCase: true);
        Assert.True(startup < TimeSpan.FromSeconds(30), $"start-up took {startup}");
    }

    [Fact]
    public async Task StartAsync_TellsTheObserver_EachStepOfTheWorkersStartInOrder()
    {
        // Arrange: the cold-start benchmark's hook (bench/README.md#serverless-scale).
        var observer = new RecordingStartObserver();

        // Act
        await using var host = await FunctionsGatewayHost.StartAsync(new Dictionary<string, string?>(), observer: observer);

        // Assert: launch, gRPC channel up, start-up done, each once and for the worker the host runs; then it serves.
        var worker = host.WorkerProcessId;
        Assert.Equal(["launching", $"connected {worker}", $"initialized {worker}"], observer.Steps);
        Assert.True(observer.WorkerHttpUri is { IsAbsoluteUri: true, Port: > 0 }, observer.WorkerHttpUri?.ToString());
        using var client = RawClient.Create(host.BaseAddress);
        using var root = await client.GetAsync("/");
        Assert.True(root.StatusCode == HttpStatusCode.OK, host.CapturedLogs);
    }

    [Fact]
    public async Task FrontDoor_JoinsRequestAndInvocation_EvenWhenTheClientSendsAnInvocationId()
    {
        // Arrange
        await using var host = await FunctionsGatewayHost.StartAsync(new Dictionary<string, string?>());
        using var client = RawClient.Create(host.BaseAddress);
        using var spoofed = new HttpRequestMessage(HttpMethod.Get, "/");
        spoofed.Headers.TryAddWithoutValidation(FrontDoor.InvocationIdHeader, Guid.NewGuid().ToString());

        // Act
        using var root = await client.SendAsync(spoofed);
        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/"));
        using var trace = await client.SendAsync(new HttpRequestMessage(HttpMethod.Trace, "/"));

        // Assert: TRACE matches no trigger's methods, so the host answers 404 and invokes nothing.
        Assert.True(root.StatusCode == HttpStatusCode.OK, host.CapturedLogs);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, trace.StatusCode);
        var reports = await WaitForInvocationsAsync(host, 2);
        Assert.All(reports, static r => Assert.Equal(("Fallback", InvocationStatus.Success, 200, "None"), (r.FunctionName, r.Status, r.HttpStatusCode, r.ForwarderError)));
        Assert.Contains("host: Fallback GET /", host.CapturedLogs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FrontDoor_PassesRouteValues_ToTheFunction()
    {
        // Arrange: the Key function binds its {id} from the InvocationRequest's trigger metadata, not from the URL.
        var environment = await GatewayTestEnvironment.CreateAsync();
        var (_, key) = await environment.CreateKeyAsync(name: "route value");
        await using var host = await FunctionsGatewayHost.StartAsync(environment.Settings());
        using var client = RawClient.Create(host.BaseAddress);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"manage/keys/{key.Id}");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + GatewayTestEnvironment.AdminKey);

        // Act
        using var response = await client.SendAsync(request);

        // Assert
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body + host.CapturedLogs);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(key.Id, json.RootElement.GetProperty("id").GetString());
        Assert.Equal("Key", (await WaitForInvocationsAsync(host, 1)).Single().FunctionName);
    }

    [Fact]
    public async Task FrontDoor_StreamsEventByEvent_WhileTheUpstreamHoldsTheNextOneBack()
    {
        // Arrange
        var environment = await GatewayTestEnvironment.CreateAsync();
        var (secret, _) = await environment.CreateKeyAsync();
        await using var upstream = await SteppedSseUpstream.StartAsync();
        await using var host = await FunctionsGatewayHost.StartAsync(environment.Settings(upstream.GatewaySettings()));
        using var client = RawClient.Create(host.BaseAddress);

        // Act: the gateway commits its 200 with the upstream's first event, so that one goes before the headers come.
        upstream.Step();
        using var response = await client.SendAsync(
            RawClient.Messages(secret, RawClient.Body("claude-sonnet-4-5", stream: true)), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        // Assert: each event arrives while the upstream has written it and nothing after it, so no hop buffers.
        Assert.True(response.StatusCode == HttpStatusCode.OK, host.CapturedLogs);
        foreach (var (index, (name, _)) in upstream.Events.Index())
        {
            if (index > 0)
            {
                upstream.Step();
            }

            var received = await ReadEventNameAsync(reader).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(name, received);
            Assert.Equal(index + 1, upstream.Written);
        }

        Assert.Null(await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        var report = Assert.Single(await WaitForInvocationsAsync(host, 1));
        Assert.Equal(("Messages", InvocationStatus.Success, false), (report.FunctionName, report.Status, report.CancelSent));
    }

    [Fact]
    public async Task FrontDoor_ClientAbort_ReachesTheWorker_AndSendsInvocationCancel()
    {
        // Arrange
        var environment = await GatewayTestEnvironment.CreateAsync();
        var (secret, _) = await environment.CreateKeyAsync();
        await using var upstream = await SteppedSseUpstream.StartAsync();
        await using var host = await FunctionsGatewayHost.StartAsync(environment.Settings(upstream.GatewaySettings()));
        using var client = RawClient.Create(host.BaseAddress);
        upstream.Step();
        var response = await client.SendAsync(
            RawClient.Messages(secret, RawClient.Body("claude-sonnet-4-5", stream: true)), HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("message_start", await ReadEventNameAsync(reader).WaitAsync(TimeSpan.FromSeconds(10)));

        // Act: the client goes away mid-stream.
        response.Dispose();

        // Assert: the forwarded request is cancelled, so the worker's RequestAborted cancels the upstream call.
        await upstream.Aborted.WaitAsync(TimeSpan.FromSeconds(10));
        var report = Assert.Single(await WaitForInvocationsAsync(host, 1));
        Assert.True(report.CancelSent, host.CapturedLogs);
        Assert.NotEqual("None", report.ForwarderError);
    }

    [Fact]
    public async Task TerminateWorkerAsync_StopsTheWorkerGracefully()
    {
        // Arrange
        await using var host = await FunctionsGatewayHost.StartAsync(new Dictionary<string, string?>());

        // Act
        var exited = await host.TerminateWorkerAsync(TimeSpan.FromSeconds(20));

        // Assert
        Assert.True(exited, host.CapturedLogs);
        Assert.Equal(0, host.WorkerExitCode);
    }

    [Fact]
    public async Task DisposeAsync_KillsTheWorker_WhenItDoesNotStopInTime()
    {
        // Arrange: no time for a graceful stop, so disposal has to kill.
        var host = await FunctionsGatewayHost.StartAsync(new Dictionary<string, string?>());
        host.GracefulStopTimeout = TimeSpan.Zero;
        using var worker = Process.GetProcessById(host.WorkerProcessId);

        // Act
        await host.DisposeAsync();

        // Assert
        Assert.True(worker.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.True(host.WorkerHasExited);
    }

    /// <summary>"GET,POST /route -> Name" for every HTTP function in the build's functions.metadata (route prefix "").</summary>
    private static List<string> HttpFunctionsOfTheBuild()
    {
        var app = FunctionsAppOutput.Locate();
        using var metadata = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(app.Directory, "functions.metadata")));
        var routes = new List<string>();
        foreach (var function in metadata.RootElement.EnumerateArray())
        {
            foreach (var binding in function.GetProperty("bindings").EnumerateArray())
            {
                if (binding.GetProperty("type").GetString() == "httpTrigger")
                {
                    var methods = binding.GetProperty("methods").EnumerateArray().Select(static m => m.GetString()!.ToUpperInvariant()).Order(StringComparer.Ordinal);
                    var route = $"{app.RoutePrefix}/{binding.GetProperty("route").GetString()}".TrimStart('/');
                    routes.Add($"{string.Join(',', methods)} /{route} -> {function.GetProperty("name").GetString()}");
                }
            }
        }

        Assert.NotEmpty(routes);
        return routes;
    }

    private static async Task<string?> ReadEventNameAsync(StreamReader reader)
    {
        string? name = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                return name;
            }

            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
        }

        return name;
    }

    /// <summary>A report is written when the host's side of the invocation ends, just after the client got the response.</summary>
    private static async Task<IReadOnlyCollection<InvocationReport>> WaitForInvocationsAsync(FunctionsGatewayHost host, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (host.Invocations.Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.True(host.Invocations.Count == count, host.CapturedLogs);
        return host.Invocations;
    }
}
