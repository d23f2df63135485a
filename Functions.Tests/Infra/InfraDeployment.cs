using System.Text.Json;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Infra;

/// <summary>
/// Compiles and lints <c>infra/</c> once per test run: a lint of every template, the ARM JSON of <c>main.bicep</c>,
/// and two deployment snapshots, one of the shipped <c>main.bicepparam</c> and one of a richer scenario written
/// here. The CLI runs on a copy of <c>infra/</c> in a temporary folder, so the repository is never written to.
/// </summary>
public sealed class InfraDeployment : IAsyncLifetime
{
    /// <summary>The deployment context the snapshots assume (any well-formed values do).</summary>
    public const string SubscriptionId = "00000000-0000-0000-0000-00000000a001";
    public const string TenantId = "00000000-0000-0000-0000-00000000b002";
    public const string ResourceGroup = "rg-qhaigc-test";
    public const string Location = "swedencentral";

    /// <summary>
    /// Parameters beyond the example: several upstreams (one without a key or URL), the largest instances, a set HTTP
    /// concurrency and per-instance cap, no Key Vault officer, a throwaway vault (no purge protection), the private
    /// network exposure with one operator address, prices, and an alert address with alert thresholds of its own.
    /// </summary>
    public const string ScenarioParameters = """
        using 'main.bicep'

        param environmentName = 'scenario'
        param upstreams = [
          {
            name: 'anthropic'
            kind: 'anthropic'
            baseUrl: 'https://api.anthropic.com'
            models: 'claude-*'
            apiKeySecretName: 'anthropic-api-key'
          }
          {
            name: 'foundry'
            kind: 'anthropic'
            baseUrl: 'https://contoso.services.ai.azure.com/anthropic'
            models: 'claude-opus-*,claude-sonnet-*'
            apiKeySecretName: 'foundry-api-key'
          }
          {
            name: 'echo'
            kind: 'local'
            models: 'echo-*'
          }
        ]
        param adminKeySecretName = 'scenario-admin-key'
        param instanceMemoryMB = 4096
        param maximumInstanceCount = 100
        param httpPerInstanceConcurrency = 32
        param httpMaxRequestsPerInstance = 150
        param keyVaultOfficerPrincipalId = ''
        param keyVaultEnablePurgeProtection = false
        param networkExposure = 'private'
        param virtualNetworkAddressPrefix = '10.7.0.0/16'
        param keyVaultAllowedIpRanges = [
          '203.0.113.7'
          '198.51.100.0/28'
        ]
        param prices = {
          'claude-sonnet-4-5': {
            input: '3'
            output: '15'
            cacheRead: '0.30'
            webSearch: '9'
          }
          'claude-haiku-*,claude-3-5-haiku-*': {
            input: '1'
            output: '5'
            cacheWrite5m: '1.25'
            cacheWrite1h: '2'
            cacheRead: '0.10'
          }
        }
        param pricesCurrency = 'EUR'
        param pricesVersion = '2026-12-01'
        param alertEmail = 'operator@contoso.example'
        param serverErrorRateAlertThreshold = '0.02'
        param upstreamRestingAlertMinutes = 15
        """;

    private readonly string _workDirectory = Path.Combine(Path.GetTempPath(), "qhaigc-infra-" + Guid.NewGuid().ToString("N"));

    private readonly string _formatDirectory = Path.Combine(Path.GetTempPath(), "qhaigc-infra-format-" + Guid.NewGuid().ToString("N"));

    public static string InfraDirectory => RepositoryPaths.Combine("infra");

    /// <summary>Template and parameter files in <c>infra/</c> (every one of them is linted).</summary>
    public IReadOnlyList<string> TemplateFiles { get; private set; } = [];

    public BicepRun Lint { get; private set; } = null!;

    public SarifLog LintLog { get; private set; } = null!;

    public BicepRun Build { get; private set; } = null!;

    public BicepRun Format { get; private set; } = null!;

    /// <summary>Each template or parameter file (path relative to <c>infra/</c>) as <c>bicep format</c> writes it.</summary>
    public IReadOnlyDictionary<string, string> Formatted { get; private set; } = new Dictionary<string, string>();

    /// <summary>The ARM JSON compiled from <c>main.bicep</c>, as text and parsed.</summary>
    public string TemplateText { get; private set; } = "";

    public JsonElement Template { get; private set; }

    /// <summary>The snapshot of the shipped example parameters, <c>infra/main.bicepparam</c>.</summary>
    public DeploymentSnapshot Example { get; private set; } = null!;

    /// <summary>The snapshot of <see cref="ScenarioParameters"/>.</summary>
    public DeploymentSnapshot Scenario { get; private set; } = null!;

    public IEnumerable<DeploymentSnapshot> Snapshots => [Example, Scenario];

    public async Task InitializeAsync()
    {
        CopyDirectory(InfraDirectory, _workDirectory);
        CopyDirectory(InfraDirectory, _formatDirectory);
        await File.WriteAllTextAsync(Path.Combine(_workDirectory, "scenario.bicepparam"), ScenarioParameters);
        TemplateFiles = [.. Directory.EnumerateFiles(InfraDirectory, "*.bicep*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];

        var lint = BicepCli.RunAsync(_workDirectory, "lint", "--pattern", Path.Combine(_workDirectory, "**", "*.bicep*"), "--diagnostics-format", "Sarif");
        var build = BicepCli.RunAsync(_workDirectory, "build", "main.bicep", "--outfile", "main.json");
        var example = SnapshotAsync("main");
        var scenario = SnapshotAsync("scenario");
        var format = BicepCli.RunAsync(_formatDirectory, "format", "--pattern", Path.Combine(_formatDirectory, "**", "*.bicep*"));
        await Task.WhenAll(lint, build, example, scenario, format);

        Format = await format;
        Formatted = TemplateFiles.ToDictionary(
            static file => Path.GetRelativePath(InfraDirectory, file),
            file => File.ReadAllText(Path.Combine(_formatDirectory, Path.GetRelativePath(InfraDirectory, file))),
            StringComparer.Ordinal);

        Lint = await lint;
        LintLog = SarifLog.Parse(Lint.StandardOutput);
        Build = await build;
        if (!Build.IsClean)
        {
            throw new InvalidOperationException(Build.ToString());
        }

        TemplateText = await File.ReadAllTextAsync(Path.Combine(_workDirectory, "main.json"));
        using (var template = JsonDocument.Parse(TemplateText))
        {
            Template = template.RootElement.Clone();
        }

        Example = await example;
        Scenario = await scenario;
    }

    public Task DisposeAsync()
    {
        foreach (var directory in new[] { _workDirectory, _formatDirectory }.Where(Directory.Exists))
        {
            Directory.Delete(directory, recursive: true);
        }

        return Task.CompletedTask;
    }

    /// <summary>Writes a snapshot of <c>{name}.bicepparam</c> to <c>{name}.snapshot.json</c> and reads it.</summary>
    private async Task<DeploymentSnapshot> SnapshotAsync(string name)
    {
        var run = await BicepCli.RunAsync(_workDirectory, "snapshot", $"{name}.bicepparam", "--mode", "overwrite",
            "--subscription-id", SubscriptionId, "--tenant-id", TenantId, "--resource-group", ResourceGroup, "--location", Location,
            "--deployment-name", "qhaigc");
        if (!run.IsClean)
        {
            throw new InvalidOperationException(run.ToString());
        }

        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_workDirectory, $"{name}.snapshot.json")));
        return new DeploymentSnapshot($"{name}.bicepparam", document.RootElement.Clone());
    }

    private static void CopyDirectory(string source, string target)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }
}
