namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>The emulated host reads an app folder as the host does: <c>worker.config.json</c> says what to start.</summary>
public sealed class FunctionsAppOutputTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("qhaigc-app-").FullName;

    [Fact]
    public void ASelfContainedApp_IsStartedByItsOwnExecutable_InTheAppFolder()
    {
        Write("""{"description":{"language":"dotnet-isolated","defaultExecutablePath":"{WorkerRoot}Qhaigc.Functions","defaultWorkerPath":"Qhaigc.Functions.dll"}}""");

        var app = FunctionsAppOutput.Read(_directory);

        Assert.Equal(Path.Combine(_directory, "Qhaigc.Functions"), app.Executable);
        Assert.Equal("Qhaigc.Functions.dll", app.WorkerPath);
    }

    [Fact]
    public void AFrameworkDependentApp_IsStartedByDotnet()
    {
        Write("""{"description":{"language":"dotnet-isolated","defaultExecutablePath":"dotnet","defaultWorkerPath":"Qhaigc.Functions.dll"}}""");

        var app = FunctionsAppOutput.Read(_directory);

        Assert.True(app.Executable == "dotnet" || Path.GetFileNameWithoutExtension(app.Executable) == "dotnet", app.Executable);
        Assert.DoesNotContain(FunctionsAppOutput.WorkerRoot, app.Executable, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private void Write(string workerConfig)
    {
        File.WriteAllText(Path.Combine(_directory, "worker.config.json"), workerConfig);
        File.WriteAllText(Path.Combine(_directory, "Qhaigc.Functions.dll"), "");
        File.WriteAllText(Path.Combine(_directory, "host.json"), """{"version":"2.0"}""");
    }
}
