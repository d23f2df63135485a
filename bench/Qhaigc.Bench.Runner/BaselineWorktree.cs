using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Qhaigc.Bench.Runner;

/// <summary>
/// The gateway at an earlier commit (<c>--baseline REF</c>): a temporary <c>git worktree</c> of that commit under the
/// system's temp directory, outside the repository, with that commit's own <c>bench/Qhaigc.Bench.GatewayHost</c>
/// built in Release (its own host, so a change to the host's code between the commits does not stop the build). The
/// worktree is removed when the run ends, whichever way it ends: disposal, or Ctrl-C, SIGTERM and SIGHUP.
/// </summary>
public sealed class BaselineWorktree : IDisposable
{
    private const string HostProject = "Qhaigc.Bench.GatewayHost";

    private readonly string _repositoryRoot;
    private readonly List<PosixSignalRegistration> _signals = [];
    private Process? _build;
    private int _disposed;

    private BaselineWorktree(string repositoryRoot, string reference, string commit, string directory)
    {
        _repositoryRoot = repositoryRoot;
        Reference = reference;
        Commit = commit;
        WorktreeDirectory = directory;
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
        {
            // The handler does not cancel the signal: the process still ends as it would have, without the worktree.
            _signals.Add(PosixSignalRegistration.Create(signal, _ => Remove()));
        }
    }

    /// <summary>The ref as given (<c>HEAD~1</c>, a branch, a commit id).</summary>
    public string Reference { get; }

    /// <summary>The full commit id the ref named when the run started.</summary>
    public string Commit { get; }

    public string WorktreeDirectory { get; }

    public string GatewayDll => Path.Combine(WorktreeDirectory, "bench", HostProject, "bin", "Release", "net10.0", HostProject + ".dll");

    /// <summary>For the run's description: which commit, against what.</summary>
    public string Description
    {
        get
        {
            var subject = Git(_repositoryRoot, "log", "-1", "--format=%h %s", Commit).StandardOutput.Trim();
            var current = Git(_repositoryRoot, "rev-parse", "--short", "HEAD").StandardOutput.Trim();
            var dirty = Git(_repositoryRoot, "status", "--porcelain", "--untracked-files=no").StandardOutput.Trim().Length > 0;
            return $"Baseline: `{Reference}` = {subject}, its own gateway host built in Release from a temporary git worktree, " +
                   $"a second gateway process with the same settings, upstream and Azurite; current: this tree (commit {current}" +
                   (dirty ? ", with uncommitted changes)" : ")");
        }
    }

    /// <summary>Makes the worktree and builds the baseline's gateway host; on any failure nothing is left behind.</summary>
    public static async Task<BaselineWorktree> CreateAsync(string repositoryRoot, string reference, Action<string> progress)
    {
        var resolved = Git(repositoryRoot, "rev-parse", "--verify", "--quiet", reference + "^{commit}");
        if (resolved.ExitCode != 0)
        {
            throw new ArgumentException($"--baseline {reference}: not a commit in {repositoryRoot}.");
        }

        var commit = resolved.StandardOutput.Trim();
        // An empty directory of our own (git accepts one), so that no other run's worktree can be in the way.
        var directory = Directory.CreateTempSubdirectory($"qhaigc-bench-baseline-{commit[..7]}-").FullName;
        progress($"baseline: a worktree of {reference} ({commit[..7]}) in {directory}");
        var added = Git(repositoryRoot, "worktree", "add", "--detach", "--quiet", directory, commit);
        if (added.ExitCode != 0)
        {
            Directory.Delete(directory, recursive: true);
            throw new InvalidOperationException($"git worktree add failed: {added.StandardError}");
        }

        var worktree = new BaselineWorktree(repositoryRoot, reference, commit, directory);
        try
        {
            var project = Path.Combine(directory, "bench", HostProject, HostProject + ".csproj");
            if (!File.Exists(project))
            {
                throw new InvalidOperationException($"--baseline {reference}: that commit has no bench/{HostProject} to build.");
            }

            progress($"baseline: building {HostProject} of {commit[..7]} in Release");
            var build = await worktree.BuildAsync(project);
            if (Volatile.Read(ref worktree._disposed) != 0)
            {
                throw new OperationCanceledException("Stopped during the baseline's build.");
            }

            if (build.ExitCode != 0 || !File.Exists(worktree.GatewayDll))
            {
                throw new InvalidOperationException($"The baseline's gateway host did not build ({build.ExitCode}): {build.StandardOutput}{build.StandardError}");
            }

            return worktree;
        }
        catch
        {
            worktree.Dispose();
            throw;
        }
    }

    private async Task<Tool.Output> BuildAsync(string project)
    {
        try
        {
            return await Tool.RunAsync("dotnet", ["build", project, "-c", "Release", "-v", "quiet", "-nologo", "-clp:ErrorsOnly"],
                TimeSpan.FromMinutes(15), started: process => Volatile.Write(ref _build, process));
        }
        finally
        {
            Volatile.Write(ref _build, null);
        }
    }

    public void Dispose()
    {
        Remove();
        foreach (var signal in _signals)
        {
            signal.Dispose();
        }
    }

    /// <summary>Removes the worktree (files and git's record of it); once, from whichever of disposal or a signal comes first.</summary>
    private void Remove()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // A signal during the build: stop it first, or it would go on writing into the removed directory.
        try
        {
            if (Volatile.Read(ref _build) is { HasExited: false } build)
            {
                build.Kill(entireProcessTree: true);
                build.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // It ended meanwhile.
        }

        Git(_repositoryRoot, "worktree", "remove", "--force", "--force", WorktreeDirectory);
        if (Directory.Exists(WorktreeDirectory))
        {
            Directory.Delete(WorktreeDirectory, recursive: true);
        }

        Git(_repositoryRoot, "worktree", "prune");
    }

    /// <summary>Runs git in the repository and waits (synchronously, so that a signal handler can use it too).</summary>
    private static Tool.Output Git(string repositoryRoot, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-C");
        start.ArgumentList.Add(repositoryRoot);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("git did not start.");
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return new Tool.Output(process.ExitCode, output, error.Result);
    }
}
