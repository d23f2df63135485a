namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>The Functions project's own build output (same configuration as the tests), as the Functions host sees it.</summary>
public static class BuildOutput
{
    /// <summary>Debug or Release, read from where the test assembly was built.</summary>
    public static string Configuration { get; } =
        new DirectoryInfo(AppContext.BaseDirectory).Parent!.Parent!.Name is var name && name is "Debug" or "Release" ? name : "Debug";

    public static string FunctionsDirectory => RepositoryPaths.Combine("Functions", "bin", Configuration, "net10.0");

    public static string FunctionsFile(string name)
    {
        var path = Path.Combine(FunctionsDirectory, name);
        Assert.True(File.Exists(path), $"{path} does not exist: build the Functions project first.");
        return path;
    }
}
