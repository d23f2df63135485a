using System.Text.Json;

namespace Qhaigc.Functions.Tests.Infra;

/// <summary>CI's gate on the templates: every file compiles and lints with no diagnostic at all (docs/deploy.md).</summary>
[Collection(InfraCollectionDefinition.Name)]
public sealed class BicepLintTests(InfraDeployment infra)
{
    [Fact]
    public void InfraTemplates_LintWithoutDiagnostics()
    {
        // Arrange: one SARIF document per linted file, so a pattern that matched nothing cannot pass.
        var log = infra.LintLog;

        // Assert
        Assert.True(infra.Lint.ExitCode == 0, infra.Lint.ToString());
        Assert.True(string.IsNullOrWhiteSpace(infra.Lint.StandardError), infra.Lint.StandardError);
        Assert.Equal(infra.TemplateFiles.Count + 1, log.Documents); // + the scenario parameters written by the fixture
        Assert.Empty(log.Results);
    }

    [Fact]
    public void MainTemplate_CompilesToArmJson()
    {
        // Assert: compiled without a diagnostic, to the symbolic-name ARM format with the resources and outputs.
        Assert.True(infra.Build.IsClean, infra.Build.ToString());
        Assert.Equal("2.0", infra.Template.GetProperty("languageVersion").GetString());
        Assert.NotEmpty(infra.Template.GetProperty("resources").EnumerateObject());
        Assert.NotEmpty(infra.Template.GetProperty("outputs").EnumerateObject());
    }

    [Fact]
    public void InfraTemplates_AreFormattedAsBicepFormatWritesThem()
    {
        // Assert: one canonical layout, so diffs show changes, not style.
        Assert.True(infra.Format.IsClean, infra.Format.ToString());
        Assert.NotEmpty(infra.Formatted);
        Assert.All(infra.Formatted, file => Assert.True(
            file.Value == File.ReadAllText(Path.Combine(InfraDeployment.InfraDirectory, file.Key)),
            $"{file.Key} differs from `bicep format` output; run `bicep format --pattern 'infra/**/*.bicep*'`."));
    }

    [Fact]
    public void MainTemplate_SnapshotsWithoutDiagnostics()
    {
        // Assert
        Assert.All(infra.Snapshots, snapshot => Assert.Empty(snapshot.Diagnostics));
    }

    [Fact]
    public void BicepConfig_RaisesEveryRuleToErrorOrTurnsItOffWithAReason()
    {
        // Arrange
        var text = File.ReadAllText(Path.Combine(InfraDeployment.InfraDirectory, "bicepconfig.json"));
        using var config = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });

        // Act
        var rules = config.RootElement.GetProperty("analyzers").GetProperty("core").GetProperty("rules").EnumerateObject()
            .ToDictionary(static rule => rule.Name, static rule => rule.Value.GetProperty("level").GetString());

        // Assert: nothing is left at "warning" or "info", and only the two documented rules are off.
        Assert.True(config.RootElement.GetProperty("analyzers").GetProperty("core").GetProperty("enabled").GetBoolean());
        Assert.All(rules, rule => Assert.Contains(rule.Value, new[] { "error", "off" }));
        Assert.Equal(
            ["use-recent-api-versions", "use-recent-module-versions"],
            rules.Where(static r => r.Value == "off").Select(static r => r.Key).Order(StringComparer.Ordinal));
        Assert.Contains("no-unused-params", rules.Keys);
    }

    [Fact]
    public async Task BicepConfig_MakesLintFail_WhenATemplateBreaksARule()
    {
        // Arrange: a template whose only flaw is a lint warning by default, next to the project's bicepconfig.json.
        var directory = Path.Combine(Path.GetTempPath(), "qhaigc-lint-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            File.Copy(Path.Combine(InfraDeployment.InfraDirectory, "bicepconfig.json"), Path.Combine(directory, "bicepconfig.json"));
            await File.WriteAllTextAsync(Path.Combine(directory, "flawed.bicep"), "param unused string\n");

            // Act
            var run = await BicepCli.RunAsync(directory, "lint", "flawed.bicep", "--diagnostics-format", "Sarif");
            var log = SarifLog.Parse(run.StandardOutput);

            // Assert
            Assert.NotEqual(0, run.ExitCode);
            var result = Assert.Single(log.Results);
            Assert.Contains("error no-unused-params", result, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
