using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Hosting;

/// <summary>The admin key must be strong before the gateway starts against real storage (docs/deploy.md#the-admin-key).</summary>
public sealed class AdminKeyRuleTests
{
    private const string RealStorage =
        "DefaultEndpointsProtocol=https;AccountName=qhaigcprod;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;EndpointSuffix=core.windows.net";

    private const string StrongKey = "q7Vx2LmP9wRt4ZsK8nB3cY6hJ1dF5gA0eU";

    public static TheoryData<string> SampleValues()
    {
        // Every value the repository's settings sample ships that looks like a secret: anyone can read them.
        using var sample = JsonDocument.Parse(File.ReadAllText(RepositoryPaths.Combine("local.settings.sample.json")));
        var values = new TheoryData<string>();
        foreach (var setting in sample.RootElement.GetProperty("Values").EnumerateObject())
        {
            if (setting.Name.EndsWith("Key", StringComparison.Ordinal))
            {
                values.Add(setting.Value.GetString()!);
            }
        }

        return values;
    }

    [Theory]
    [MemberData(nameof(SampleValues))]
    public void Validate_Fails_WhenTheAdminKeyIsAShippedValue_AndStorageIsReal(string sampleValue)
    {
        // Act
        var result = Validate(sampleValue, RealStorage);

        // Assert: the message says why, and never quotes the key.
        Assert.True(result.Failed);
        Assert.Contains("Gateway:AdminKey is not fit for real storage: it is an example value", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain(sampleValue, result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("short-but-not-sample")]
    [InlineData("0123456789abcdef0123456789abcde")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void Validate_Fails_WhenTheAdminKeyIsWeak_AndStorageIsReal(string adminKey)
    {
        // Act
        var result = Validate(adminKey, RealStorage);

        // Assert
        Assert.True(result.Failed);
        Assert.Contains("it must have at least 32 characters, at least 8 of them different", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Fails_WhenStorageIsReachedByIdentity_AndTheAdminKeyIsTheSample()
    {
        // Arrange: managed identity, no connection string.
        var options = new GatewayOptions
        {
            AdminKey = "dev-admin-key-change-me",
            Storage = new StorageOptions { TableServiceUri = new Uri("https://qhaigcprod.table.core.windows.net") },
        };

        // Act
        var result = new GatewayOptionsValidator(new ConfigurationBuilder().Build()).Validate(null, options);

        // Assert
        Assert.True(result.Failed);
    }

    [Fact]
    public void Validate_Fails_WhenOnlyAzureWebJobsStorageNamesRealStorage()
    {
        // Arrange: the gateway falls back to the host's storage when it has no connection string of its own.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = RealStorage,
        }).Build();

        // Act
        var result = new GatewayOptionsValidator(configuration).Validate(null, new GatewayOptions { AdminKey = "dev-admin-key-change-me" });

        // Assert
        Assert.True(result.Failed);
    }

    [Theory]
    [InlineData("dev-admin-key-change-me", "UseDevelopmentStorage=true")]
    [InlineData("dev-admin-key-change-me", "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;")]
    [InlineData(StrongKey, RealStorage)]
    [InlineData(null, RealStorage)]
    [InlineData("@Microsoft.KeyVault(VaultName=kv;SecretName=gateway-admin-key)", RealStorage)]
    public void Validate_Passes_ForLocalStorage_AStrongKey_OrNoAdminApi(string? adminKey, string connectionString)
    {
        // Act
        var result = Validate(adminKey, connectionString);

        // Assert
        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public async Task StandaloneHost_DoesNotStart_WithTheSampleAdminKeyOnRealStorage()
    {
        // Arrange: the sample's admin key against an account in Azure.
        await using var app = StandaloneHost.Build([], builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Gateway:Storage:ConnectionString"] = RealStorage,
            ["Gateway:AdminKey"] = "dev-admin-key-change-me",
        }));

        // Act
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        // Assert
        Assert.Contains("Gateway:AdminKey is not fit for real storage", failure.Message, StringComparison.Ordinal);
    }

    private static ValidateOptionsResult Validate(string? adminKey, string connectionString) =>
        new GatewayOptionsValidator(new ConfigurationBuilder().Build()).Validate(null, new GatewayOptions
        {
            AdminKey = adminKey,
            Storage = new StorageOptions { ConnectionString = connectionString },
        });
}
