using Microsoft.Extensions.Configuration;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Storage;

/// <summary>How the gateway reaches its tables without costing a new instance's start (docs/performance.md#cold-start).</summary>
public sealed class GatewayTablesTests
{
    [Theory]
    [InlineData("UseDevelopmentStorage=true", true)]
    [InlineData("usedevelopmentstorage=TRUE;DevelopmentStorageProxyUri=http://127.0.0.1", true)]
    [InlineData("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;", true)]
    [InlineData("AccountName=a;AccountKey=a2V5; TableEndpoint = http://localhost:10002/a", true)]
    [InlineData("DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=a2V5;EndpointSuffix=core.windows.net", false)]
    [InlineData("DefaultEndpointsProtocol=https;AccountName=127.0.0.1;AccountKey=a2V5", false)]
    [InlineData("TableEndpoint=https://prod.table.core.windows.net/;SharedAccessSignature=sv=2019&sig=abc%3D", false)]
    [InlineData("UseDevelopmentStorage=false", false)]
    [InlineData("not a connection string", false)]
    [InlineData("TableEndpoint=not a url", false)]
    public void IsDevelopmentStorage_ReadsTheConnectionStringsOwnFields(string connectionString, bool local)
    {
        // Act
        var isLocal = GatewayTables.IsDevelopmentStorage(new StorageOptions { ConnectionString = connectionString }, new ConfigurationBuilder().Build());

        // Assert
        Assert.Equal(local, isLocal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:10002/devstoreaccount1", true)]
    [InlineData("https://prod.table.core.windows.net/", false)]
    public void IsDevelopmentStorage_ReadsTheTableServiceUri(string uri, bool local)
    {
        // Act
        var isLocal = GatewayTables.IsDevelopmentStorage(new StorageOptions { TableServiceUri = new Uri(uri) }, new ConfigurationBuilder().Build());

        // Assert
        Assert.Equal(local, isLocal);
    }

    [Fact]
    public async Task FindByHashAsync_FindsNothing_AndCreatesNoTable_WhenTheKeysTableDoesNotExist()
    {
        // Arrange: a new instance whose first call is a key lookup, before anyone created the keys table.
        var environment = await GatewayTestEnvironment.CreateAsync();

        // Act
        var found = await environment.Keys.FindByHashAsync(ApiKeyHasher.Hash("sk-qh-" + new string('a', 48)), CancellationToken.None);

        // Assert: one read, answered "no such key"; no table made for it.
        Assert.Null(found);
        var tables = environment.Azurite.CreateServiceClient().QueryAsync(table => table.Name == environment.KeysTable);
        Assert.Empty(await tables.ToListAsync());
    }

    [Fact]
    public async Task FindByHashAsync_ReadsEveryColumnOfTheKeysRow()
    {
        // Arrange: a key with every optional column set, read back through the hand-mapped point read.
        var environment = await GatewayTestEnvironment.CreateAsync();
        var (secret, key) = await environment.CreateKeyAsync("every column", models: ["claude-*", "gpt-4o"]);
        var stored = key with
        {
            Disabled = true,
            ExpiresAt = new DateTimeOffset(2031, 5, 6, 7, 8, 9, TimeSpan.Zero),
            LimitsJson = """{"requestsPerMinute":7}""",
        };
        Assert.True(await environment.Keys.UpdateAsync(stored, CancellationToken.None));

        // Act
        var found = await environment.Keys.FindByHashAsync(ApiKeyHasher.Hash(secret), CancellationToken.None);

        // Assert
        Assert.NotNull(found);
        Assert.Equal(stored.Name, found.Name);
        Assert.Equal(stored.Hint, found.Hint);
        Assert.Equal(stored.CreatedAt, found.CreatedAt);
        Assert.Equal(stored.ExpiresAt, found.ExpiresAt);
        Assert.True(found.Disabled);
        Assert.Equal(["claude-*", "gpt-4o"], found.Models);
        Assert.Equal(stored.LimitsJson, found.LimitsJson);
    }
}
