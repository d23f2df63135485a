using System.Reflection;
using System.Text.Json;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>
/// The Functions project's build output, read the way the host reads an app folder: <c>worker.config.json</c> says how
/// to start the worker and <c>host.json</c> holds the HTTP route prefix.
/// </summary>
public sealed class FunctionsAppOutput
{
    /// <summary>The placeholder for the worker's folder in <c>worker.config.json</c>.</summary>
    public const string WorkerRoot = "{WorkerRoot}";

    /// <summary>The host's prefix when <c>host.json</c> sets none.</summary>
    public const string DefaultRoutePrefix = "api";

    private FunctionsAppOutput(string directory, string executable, string workerPath, string routePrefix)
    {
        Directory = directory;
        Executable = executable;
        WorkerPath = workerPath;
        RoutePrefix = routePrefix;
    }

    /// <summary>The app folder: both the host's function app directory and the worker directory.</summary>
    public string Directory { get; }

    /// <summary>
    /// <c>description.defaultExecutablePath</c>: <c>dotnet</c>, resolved to the running SDK's muxer, or for an app
    /// published self-contained its own executable, <c>{WorkerRoot}</c> being the app folder as the host reads it.
    /// </summary>
    public string Executable { get; }

    /// <summary><c>description.defaultWorkerPath</c>, relative to <see cref="Directory"/>.</summary>
    public string WorkerPath { get; }

    /// <summary><c>extensions.http.routePrefix</c> from <c>host.json</c>, without slashes.</summary>
    public string RoutePrefix { get; }

    /// <summary>
    /// The output of the same configuration as this test assembly; the test project references the Functions project,
    /// so building the tests builds it.
    /// </summary>
    public static FunctionsAppOutput Locate()
    {
        var configuration = typeof(FunctionsAppOutput).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        return Read(RepositoryPaths.Combine("Functions", "bin", configuration, "net10.0"));
    }

    public static FunctionsAppOutput Read(string directory)
    {
        var workerConfig = Path.Combine(directory, "worker.config.json");
        if (!File.Exists(workerConfig))
        {
            throw new InvalidOperationException($"No worker.config.json in {directory}: build the Functions project first.");
        }

        string executable;
        string workerPath;
        using (var document = JsonDocument.Parse(File.ReadAllBytes(workerConfig)))
        {
            var description = document.RootElement.GetProperty("description");
            executable = description.GetProperty("defaultExecutablePath").GetString() ?? "dotnet";
            workerPath = description.GetProperty("defaultWorkerPath").GetString()
                ?? throw new InvalidOperationException("worker.config.json has no defaultWorkerPath.");
        }

        if (!File.Exists(Path.Combine(directory, workerPath)))
        {
            throw new InvalidOperationException($"worker.config.json names {workerPath}, which is not in {directory}.");
        }

        executable = executable.Replace(WorkerRoot, Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

        // The SDK that runs the tests also runs the worker, as the host would run the machine's dotnet.
        if (executable == "dotnet" && Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } muxer)
        {
            executable = muxer;
        }

        return new FunctionsAppOutput(directory, executable, workerPath, ReadRoutePrefix(Path.Combine(directory, "host.json")));
    }

    private static string ReadRoutePrefix(string hostJson)
    {
        if (!File.Exists(hostJson))
        {
            throw new InvalidOperationException($"No host.json at {hostJson}: the host refuses to start without one.");
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(hostJson), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        if (document.RootElement.TryGetProperty("extensions", out var extensions) &&
            extensions.TryGetProperty("http", out var http) &&
            http.TryGetProperty("routePrefix", out var prefix) &&
            prefix.ValueKind == JsonValueKind.String)
        {
            return prefix.GetString()!.Trim('/');
        }

        return DefaultRoutePrefix;
    }
}
