using System.Diagnostics;
using System.Net;
using Qhaigc.Functions.Tests.Faults;
using Qhaigc.Functions.Tests.HostEmulation;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Usage;
using Xunit.Abstractions;

namespace Qhaigc.Functions.Tests.Files;

/// <summary>
/// Uploads are streamed (docs/files.md#limits): a file of hundreds of megabytes passes with the gateway's memory
/// bounded, the upstream has the first bytes before the client sent the last, and a client that leaves mid-upload
/// cancels the upstream upload. Run alone (the soak's collection): the memory is measured.
/// </summary>
[Collection(SoakCollectionDefinition.Name)]
public sealed class FilesUploadStreamingTests(ITestOutputHelper output)
{
    /// <summary>Hundreds of megabytes, generated as they are sent.</summary>
    private const long LargeFileBytes = 300L * 1024 * 1024;

    public static TheoryData<string> Modes => GatewayHosts.Modes;

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Upload_HundredsOfMegabytes_PassWithTheGatewaysMemoryBounded(string mode)
    {
        // Arrange: the host's own 100 MB request cap raised as infra/main.bicep raises it.
        await using var scenario = await GatewayScenario.StartAsync(mode, configure: static settings =>
            settings[FunctionsGatewayHost.RequestBodySizeLimitSetting] = "525336576");
        using var http = scenario.Http();
        http.Timeout = TimeSpan.FromMinutes(10);
        var memory = new MemorySampler(scenario.Host);
        var baseline = memory.Sample();

        // Act
        using var sampling = new CancellationTokenSource();
        var sampler = memory.RunAsync(sampling.Token);
        using var response = await http.SendAsync(new GeneratedUpload(LargeFileBytes, "large.bin").Request(scenario.Secret));
        await sampling.CancelAsync();
        var peak = await sampler;

        // Assert: the whole file reached the upstream; the gateway's memory grew by a small fraction of it.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(LargeFileBytes, Assert.Single(scenario.Upstream!.Files.Files.Values).SizeBytes);
        var grown = peak - baseline;
        output.WriteLine($"{mode}: {memory.What} before {baseline / 1048576.0:F0} MB, peak {peak / 1048576.0:F0} MB, " +
                         $"grown {grown / 1048576.0:F0} MB for a {LargeFileBytes / 1048576} MB upload");
        Assert.True(grown < LargeFileBytes / 4, $"The gateway's {memory.What} grew by {grown / 1048576} MB for a {LargeFileBytes / 1048576} MB upload.");
        var record = (await FilesEndToEndTests.WaitForRecordsAsync(scenario.Environment, scenario.Key.Id, 1)).Single();
        Assert.Equal(("files.upload", LargeFileBytes), (record.Endpoint, record.Bytes));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Upload_ClientLeavesMidUpload_CancelsTheUpstreamUpload(string mode)
    {
        // Arrange: a body that stops after 8 MB of its 64 MB.
        await using var scenario = await GatewayScenario.StartAsync(mode);
        using var http = scenario.Http();
        var upload = new GeneratedUpload(64L * 1024 * 1024) { PauseAfter = 8L * 1024 * 1024 };
        using var leave = new CancellationTokenSource();
        var sending = http.SendAsync(upload.Request(scenario.Secret), leave.Token);
        await upload.Paused.WaitAsync(TimeSpan.FromSeconds(60));

        // The upstream has bytes of the file while the client has not sent the rest: the upload is streamed.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (scenario.Upstream!.Files.UploadBytesReceived == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        var receivedWhilePaused = scenario.Upstream.Files.UploadBytesReceived;

        // Act: the client leaves.
        await leave.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);

        // Assert: the upstream saw its upload cut, and no file was made of it.
        await scenario.Upstream.Files.UploadAborted.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.InRange(receivedWhilePaused, 1, 8L * 1024 * 1024);
        Assert.Empty(scenario.Upstream.Files.Files);
        var record = (await FilesEndToEndTests.WaitForRecordsAsync(scenario.Environment, scenario.Key.Id, 1)).Single();
        Assert.Equal(("files.upload", UsageState.Cancelled, 499), (record.Endpoint, record.State, record.Status));
        Assert.Empty(await ListedAsync(scenario));
    }

    private static async Task<List<OwnedObject>> ListedAsync(GatewayScenario scenario)
    {
        var files = new List<OwnedObject>();
        await foreach (var file in scenario.Environment.Objects.OwnedByAsync(scenario.Key.Id, OwnedKinds.File, CancellationToken.None))
        {
            files.Add(file);
        }

        return files;
    }

    /// <summary>
    /// The gateway's memory: the worker process's working set in the Functions mode (the gateway is that process alone),
    /// the managed heap of this process in the standalone mode (the gateway shares it with the test, its client and the
    /// fake upstream, so the number is an upper bound).
    /// </summary>
    private sealed class MemorySampler(IGatewayHost host)
    {
        public string What => host is FunctionsGatewayHost ? "worker working set" : "managed heap (whole test process)";

        public long Sample()
        {
            if (host is FunctionsGatewayHost functions)
            {
                using var worker = Process.GetProcessById(functions.WorkerProcessId);
                return worker.WorkingSet64;
            }

            return GC.GetTotalMemory(forceFullCollection: false);
        }

        public async Task<long> RunAsync(CancellationToken cancellationToken)
        {
            var peak = Sample();
            while (!cancellationToken.IsCancellationRequested)
            {
                peak = Math.Max(peak, Sample());
                try
                {
                    await Task.Delay(20, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            return Math.Max(peak, Sample());
        }
    }
}
