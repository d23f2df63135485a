using System.Diagnostics;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.WebConsole;

/// <summary>
/// The committed console (Functions/Console/wwwroot) is exactly what `npm run build:console` makes from its sources
/// and the pinned packages (docs/console.md#the-build).
/// </summary>
public sealed class ConsoleBuildTests
{
    [Fact]
    public async Task Build_ReproducesCommittedFiles_ByteForByte()
    {
        // Arrange
        var committed = RepositoryPaths.Combine("Functions", "Console", "wwwroot");
        var output = Directory.CreateTempSubdirectory("qhaigc-console-build-").FullName;
        try
        {
            // Act
            var start = new ProcessStartInfo("node")
            {
                ArgumentList = { RepositoryPaths.Combine("Functions", "Console", "web", "build.mjs"), output },
                WorkingDirectory = RepositoryPaths.Root,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var build = Process.Start(start)!;
            var errors = build.StandardError.ReadToEndAsync();
            await build.StandardOutput.ReadToEndAsync();
            await build.WaitForExitAsync();

            // Assert
            Assert.True(build.ExitCode == 0, "The console build failed: " + await errors);
            var expected = Files(committed);
            var built = Files(output);
            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), built.Keys.Order(StringComparer.Ordinal));
            foreach (var (name, bytes) in built)
            {
                Assert.True(bytes.AsSpan().SequenceEqual(expected[name]),
                    $"{name} differs from the committed one: run `npm run build:console` and commit Functions/Console/wwwroot.");
            }
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void Page_LoadsNothingInlineOrFromElsewhere()
    {
        // Arrange
        var html = File.ReadAllText(RepositoryPaths.Combine("Functions", "Console", "wwwroot", "index.html"));

        // Act
        var sources = System.Text.RegularExpressions.Regex.Matches(html, "(?:src|href)=\"([^\"]*)\"").Select(static m => m.Groups[1].Value).ToArray();

        // Assert: no inline script or style (the CSP allows neither), every file from the gateway's /console.
        Assert.DoesNotMatch("<script(?![^>]*\\ssrc=)", html);
        Assert.DoesNotContain("<style", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(" style=", html, StringComparison.OrdinalIgnoreCase);
        Assert.All(sources, static source => Assert.True(source.StartsWith("/console/", StringComparison.Ordinal) || source == "data:,", source));
    }

    private static Dictionary<string, byte[]> Files(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f).Replace('\\', '/'), File.ReadAllBytes, StringComparer.Ordinal);
}
