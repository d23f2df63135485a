using System.Diagnostics;
using Azure.Data.Tables;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>
/// A real Azurite table service, started once per test run from the repository's pinned npm package on a free
/// loopback port, in memory. Tests isolate themselves with their own table names, not their own server. The shared
/// server also runs Azurite's blob service (the <c>local</c> upstream's files, docs/files.md#local-files) as a process
/// of its own, so a test that pauses the table process pauses tables only.
/// </summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    /// <summary>Azurite's well-known development account (public, documented, not a secret).</summary>
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly Lazy<Task<AzuriteServer>> SharedServer = new(() => StartAsync(withBlobs: true));

    private readonly Process _process;
    private readonly TaskCompletionSource _closed;
    private readonly Process? _blobs;

    private AzuriteServer(Process process, int port, TaskCompletionSource closed, Process? blobs, int? blobPort)
    {
        _process = process;
        Port = port;
        _closed = closed;
        _blobs = blobs;
        BlobPort = blobPort;
    }

    public int Port { get; }

    /// <summary>The blob service's port, when this server runs one.</summary>
    public int? BlobPort { get; }

    /// <summary>The Azurite process, for tests that pause it (<c>kill -STOP</c>) to make storage slow rather than down.</summary>
    public int ProcessId => _process.Id;

    public string ConnectionString =>
        ConnectionStringFor(Port) +
        (BlobPort is { } blobPort ? $"BlobEndpoint=http://127.0.0.1:{blobPort}/{AccountName};" : "");

    public static Task<AzuriteServer> SharedAsync() => SharedServer.Value;

    /// <summary>
    /// Preloaded into every Azurite process: it ends when its standard input closes, that is when this test host is gone,
    /// even killed (the process-exit handlers below then never run).
    /// </summary>
    private static string ExitWithParent => RepositoryPaths.Combine("Functions.Tests", "Infrastructure", "exit-with-parent.js");

    /// <summary>The development account's connection string for tables on a loopback port (also one that is not Azurite's).</summary>
    public static string ConnectionStringFor(int tablePort) =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};TableEndpoint=http://127.0.0.1:{tablePort}/{AccountName};";

    /// <summary>
    /// A fresh server of its own, for tests that stop and start storage: with <paramref name="location"/> its data
    /// lives on disk and survives a restart on the same port.
    /// </summary>
    public static async Task<AzuriteServer> StartAsync(
        int? port = null, string? location = null, IReadOnlyList<string>? arguments = null, bool withBlobs = false)
    {
        var entry = RepositoryPaths.Combine("node_modules", "azurite", "dist", "src", "table", "main.js");
        if (!File.Exists(entry))
        {
            throw new InvalidOperationException("Azurite is not installed: run `npm ci` in the repository root (the test build does this).");
        }

        var chosen = port ?? FreePort.Next();
        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { "--require", ExitWithParent, entry, "--tableHost", "127.0.0.1", "--tablePort", chosen.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--silent", "--skipApiVersionCheck", "--disableProductStyleUrl" },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryPaths.Root,
        };
        foreach (var argument in arguments ?? [])
        {
            start.ArgumentList.Add(argument);
        }

        if (location is null)
        {
            start.ArgumentList.Add("--inMemoryPersistence");
        }
        else
        {
            start.ArgumentList.Add("--location");
            start.ArgumentList.Add(location);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
        // Azurite says when it has closed (its data saved); it may still wait for client connections before it exits.
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data?.Contains("successfully closed", StringComparison.Ordinal) == true)
            {
                closed.TrySetResult();
            }
        };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Kill(process);
        Process? blobs = null;
        int? blobPort = null;
        if (withBlobs)
        {
            blobPort = FreePort.Next();
            blobs = Process.Start(new ProcessStartInfo("node")
            {
                ArgumentList = { "--require", ExitWithParent, RepositoryPaths.Combine("node_modules", "azurite", "dist", "src", "blob", "main.js"), "--blobHost", "127.0.0.1",
                    "--blobPort", blobPort.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent", "--skipApiVersionCheck",
                    "--disableProductStyleUrl", "--inMemoryPersistence" },
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = RepositoryPaths.Root,
            }) ?? throw new InvalidOperationException("Azurite's blob service did not start.");
            blobs.OutputDataReceived += static (_, _) => { };
            blobs.ErrorDataReceived += static (_, _) => { };
            blobs.BeginOutputReadLine();
            blobs.BeginErrorReadLine();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Kill(blobs);
        }

        await FreePort.WaitUntilListeningAsync(chosen, TimeSpan.FromSeconds(30));
        if (blobPort is { } listening)
        {
            await FreePort.WaitUntilListeningAsync(listening, TimeSpan.FromSeconds(30));
        }

        return new AzuriteServer(process, chosen, closed, blobs, blobPort);
    }

    public TableServiceClient CreateServiceClient() => new(ConnectionString);

    /// <summary>
    /// Stops the service as an outage would (storage "goes down"), letting it save what it acknowledged;
    /// <see cref="StartAsync"/> with the same port and location brings it back.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGINT: Azurite's table service saves its data on SIGINT only (it has no SIGTERM handler, so a TERM drops
            // every write acknowledged since its last autosave, up to 5 s of them). Once it says it has closed, the
            // data is on disk; the process itself may linger while clients keep connections open, so it is then ended.
            using var interrupt = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) } });
            interrupt?.WaitForExit();
            await Task.WhenAny(_closed.Task, _process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(10)));
            Kill(_process);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        if (_blobs is not null)
        {
            Kill(_blobs);
            await _blobs.WaitForExitAsync();
            _blobs.Dispose();
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }
}
