using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Tests.Infra;

/// <summary>
/// The app settings the template gives the gateway: every secret is a Key Vault reference, and every setting the code
/// needs in production is there, in a form the gateway's own start-up validation accepts.
/// </summary>
[Collection(InfraCollectionDefinition.Name)]
public sealed class MainTemplateSettingsTests(InfraDeployment infra)
{
    /// <summary>Per parameter file: the secret-bearing settings and the Key Vault secret each must name.</summary>
    public static TheoryData<string, Dictionary<string, string>> SecretSettings => new()
    {
        {
            "main.bicepparam", new()
            {
                [GatewaySettings.AdminKey] = "gateway-admin-key",
                [GatewaySettings.Upstream("anthropic", nameof(UpstreamOptions.ApiKey))] = "upstream-anthropic-api-key",
            }
        },
        {
            "scenario.bicepparam", new()
            {
                [GatewaySettings.AdminKey] = "scenario-admin-key",
                [GatewaySettings.Upstream("anthropic", nameof(UpstreamOptions.ApiKey))] = "anthropic-api-key",
                [GatewaySettings.Upstream("foundry", nameof(UpstreamOptions.ApiKey))] = "foundry-api-key",
            }
        },
    };

    public static TheoryData<string, string[]> UpstreamNames => new()
    {
        { "main.bicepparam", ["anthropic"] },
        { "scenario.bicepparam", ["anthropic", "echo", "foundry"] },
    };

    [Theory]
    [MemberData(nameof(SecretSettings))]
    public void MainTemplate_ReferencesEverySecretFromKeyVault(string parameters, Dictionary<string, string> expected)
    {
        // Arrange
        var snapshot = Snapshot(parameters);
        var vault = DeploymentSnapshot.ResourceName(snapshot.Resource("Microsoft.KeyVault/vaults"));
        var secretSettings = snapshot.AppSettings
            .Where(static s => s.Key.EndsWith("__" + nameof(GatewayOptions.AdminKey), StringComparison.Ordinal) ||
                s.Key.EndsWith("__" + nameof(UpstreamOptions.ApiKey), StringComparison.Ordinal))
            .ToDictionary(static s => s.Key, static s => s.Value, StringComparer.Ordinal);

        // Assert: exactly the expected secret settings, each naming its secret in this deployment's vault.
        Assert.Equal(
            expected.ToDictionary(static e => e.Key, e => $"@Microsoft.KeyVault(VaultName={vault};SecretName={e.Value})", StringComparer.Ordinal),
            secretSettings);
        Assert.Equal(expected[GatewaySettings.AdminKey], snapshot.Outputs.GetProperty("ADMIN_KEY_SECRET_NAME").GetString());
        Assert.Equal(
            expected.Where(static e => e.Key != GatewaySettings.AdminKey).Select(static e => e.Value).Order(StringComparer.Ordinal),
            snapshot.Outputs.GetProperty("UPSTREAM_KEY_SECRET_NAMES").GetString()!.Split(' ', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void MainTemplate_TakesNoSecretValue()
    {
        // Arrange
        var parameters = infra.Template.GetProperty("parameters").EnumerateObject().ToList();

        // Assert: no secure parameter exists to carry one, and no setting holds anything shaped like a key.
        Assert.NotEmpty(parameters);
        Assert.DoesNotContain(parameters, static p =>
            p.Value.TryGetProperty("type", out var type) && type.GetString()!.StartsWith("secure", StringComparison.OrdinalIgnoreCase));
        Assert.All(
            infra.Snapshots.SelectMany(static s => s.AppSettings.Values),
            static value => Assert.DoesNotContain("sk-", value, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void MainTemplate_NeverSetsTheDevelopmentKey()
    {
        // Assert: Gateway:DevKey is a well-known key for local storage only.
        Assert.All(infra.Snapshots, static s => Assert.DoesNotContain(s.AppSettings.Keys, static k => k == GatewaySettings.DevKey));
    }

    [Theory]
    [MemberData(nameof(UpstreamNames))]
    public void MainTemplate_SetsEveryGatewaySettingTheCodeNeedsInProduction(string parameters, string[] upstreams)
    {
        // Arrange
        var settings = Snapshot(parameters).AppSettings;

        // Assert: without the table endpoint the code falls back to a connection string (none in Azure); without the
        // admin key no client key can be created; without upstreams the built-in local echo would answer every model.
        Assert.Contains(GatewaySettings.TableServiceUri, settings.Keys);
        Assert.True(GatewayTables.IsDevelopmentStorage(new StorageOptions(), new ConfigurationBuilder().Build()));
        Assert.Contains(GatewaySettings.AdminKey, settings.Keys);
        Assert.Equal(upstreams, GatewaySettings.UpstreamNames(settings));
        foreach (var upstream in upstreams)
        {
            var kind = settings[GatewaySettings.Upstream(upstream, nameof(UpstreamOptions.Kind))];
            Assert.True(UpstreamKinds.IsSupported(kind), $"{upstream}: kind '{kind}'");
            if (UpstreamKinds.NeedsBaseUrl(kind))
            {
                Assert.Contains(GatewaySettings.Upstream(upstream, nameof(UpstreamOptions.BaseUrl)), settings.Keys);
                Assert.Contains(GatewaySettings.Upstream(upstream, nameof(UpstreamOptions.ApiKey)), settings.Keys);
            }
        }
    }

    [Theory]
    [InlineData("main.bicepparam", "claude-sonnet-4-5", "anthropic")]
    [InlineData("main.bicepparam", "gpt-4o", null)]
    [InlineData("scenario.bicepparam", "claude-haiku-4-5", "anthropic")]
    [InlineData("scenario.bicepparam", "claude-opus-4-1", "foundry")]
    [InlineData("scenario.bicepparam", "echo-1", "echo")]
    public void MainTemplate_GivesSettingsTheGatewayStartsWith(string parameters, string model, string? upstream)
    {
        // Arrange: the settings as the app sees them once the platform has resolved the deployment-time values.
        var snapshot = Snapshot(parameters);
        var storage = DeploymentSnapshot.ResourceName(snapshot.Resource("Microsoft.Storage/storageAccounts"));
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(snapshot.AppSettings.Select(s => KeyValuePair.Create(
                s.Key.Replace("__", ":", StringComparison.Ordinal),
                (string?)Resolve(s.Value, storage))))
            .Build();
        var services = new ServiceCollection().AddLogging().AddGateway(configuration);
        using var provider = services.BuildServiceProvider();

        // Act: options validation runs here, as ValidateOnStart would at host start.
        var options = provider.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var route = provider.GetRequiredService<UpstreamRouter>().Route(model);

        // Assert: tables by managed identity (not a connection string, not the emulator), and models routed.
        Assert.Null(GatewayTables.ResolveConnectionString(options.Storage, configuration));
        Assert.False(GatewayTables.IsDevelopmentStorage(options.Storage, configuration));
        Assert.Equal(new Uri($"https://{storage}.table.core.windows.net/"), options.Storage.TableServiceUri);
        Assert.Equal(upstream, route?.Upstream.Name);
    }

    private DeploymentSnapshot Snapshot(string parameters) => infra.Snapshots.Single(s => s.Name == parameters);

    /// <summary>
    /// Stands in for what the platform does: Key Vault references become secrets (as strong as docs/deploy.md makes them,
    /// since the admin key must be against real storage), endpoints become URLs.
    /// </summary>
    private static string Resolve(string value, string storageAccount) =>
        value.StartsWith("@Microsoft.KeyVault(", StringComparison.Ordinal) ? "resolved-secret-7Kq2Vx9LmP4wRt8ZsN3cY6hJ1dF5gA0e"
        : value.Contains(").primaryEndpoints.table]", StringComparison.Ordinal) ? $"https://{storageAccount}.table.core.windows.net/"
        : value.StartsWith('[') ? "resolved-at-deployment"
        : value;
}
