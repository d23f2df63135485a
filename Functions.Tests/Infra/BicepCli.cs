using System.Diagnostics;
using System.Reflection;

namespace Qhaigc.Functions.Tests.Infra;

/// <summary>
/// The Bicep CLI from the <c>Azure.Bicep.CommandLine.linux-x64</c> NuGet package, located through the
/// <c>BicepPath</c> assembly metadata that the test project records at build time (Functions.Tests.csproj).
/// </summary>
public static class BicepCli
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(3);

    private static readonly Lazy<string> ExecutablePath = new(Locate);

    /// <summary>One command per core at a time: the machine running the tests may be busy with other builds.</summary>
    private static readonly SemaphoreSlim Slots = new(Math.Max(1, Environment.ProcessorCount));

    public static string Executable => ExecutablePath.Value;

    /// <summary>Runs one command and waits for it; environment variables the parameter files read are cleared.</summary>
    public static async Task<BicepRun> RunAsync(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // main.bicepparam reads it (azd sets it); a developer's shell must not change what the tests see.
        start.Environment.Remove("AZURE_ENV_NAME");

        await Slots.WaitAsync();
        try
        {
            return await RunAsync(start, arguments);
        }
        finally
        {
            Slots.Release();
        }
    }

    private static async Task<BicepRun> RunAsync(ProcessStartInfo start, string[] arguments)
    {
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Executable}.");
        var standardOutput = process.StandardOutput.ReadToEndAsync();
        var standardError = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish within {CommandTimeout}.");
        }

        return new BicepRun(string.Join(' ', arguments), process.ExitCode, await standardOutput, await standardError);
    }

    private static string Locate()
    {
        var recorded = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(attribute => attribute.Key == "BicepPath")?.Value;
        if (string.IsNullOrWhiteSpace(recorded))
        {
            throw new InvalidOperationException(
                "No Bicep CLI: the build recorded no BicepPath. Restore Functions.Tests (the Azure.Bicep.CommandLine package sets it), or set BicepPath.");
        }

        // The package's props build the path with Windows separators.
        var path = Path.GetFullPath(OperatingSystem.IsWindows() ? recorded : recorded.Replace('\\', '/'));
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"No Bicep CLI at {path}.");
        }

        return OperatingSystem.IsWindows() ? path : EnsureExecutable(path);
    }

    /// <summary>NuGet does not promise to keep file modes, so make sure the binary may be run.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static string EnsureExecutable(string path)
    {
        const UnixFileMode executeBits = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        var mode = File.GetUnixFileMode(path);
        if ((mode & executeBits) == executeBits)
        {
            return path;
        }

        try
        {
            File.SetUnixFileMode(path, mode | executeBits);
            return path;
        }
        catch (UnauthorizedAccessException)
        {
            // A package folder owned by someone else: run a private copy instead.
            var copy = Path.Combine(Path.GetTempPath(), $"qhaigc-bicep-{Environment.ProcessId}", Path.GetFileName(path));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(path, copy, overwrite: true);
            File.SetUnixFileMode(copy, mode | executeBits | UnixFileMode.UserRead | UnixFileMode.UserWrite);
            return copy;
        }
    }
}
