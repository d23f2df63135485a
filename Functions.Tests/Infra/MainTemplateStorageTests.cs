namespace Qhaigc.Functions.Tests.Infra;

/// <summary>Storage is reached by identity alone: no account key exists in the deployment or in any setting.</summary>
[Collection(InfraCollectionDefinition.Name)]
public sealed class MainTemplateStorageTests(InfraDeployment infra)
{
    [Fact]
    public void MainTemplate_DisablesSharedKeyAccess()
    {
        // Arrange
        var storage = DeploymentSnapshot.Properties(infra.Example.Resource("Microsoft.Storage/storageAccounts"));

        // Assert
        Assert.False(storage.GetProperty("allowSharedKeyAccess").GetBoolean());
        Assert.True(storage.GetProperty("defaultToOAuthAuthentication").GetBoolean());
        Assert.False(storage.GetProperty("allowBlobPublicAccess").GetBoolean());
        Assert.True(storage.GetProperty("supportsHttpsTrafficOnly").GetBoolean());
        Assert.Equal("TLS1_2", storage.GetProperty("minimumTlsVersion").GetString());
        Assert.All(
            infra.Example.OfType("Microsoft.Storage/storageAccounts/blobServices/containers"),
            static c => Assert.Equal("None", DeploymentSnapshot.Properties(c).GetProperty("publicAccess").GetString()));
    }

    [Theory]
    [InlineData("listKeys(")]
    [InlineData("listAccountSas(")]
    [InlineData("listServiceSas(")]
    [InlineData("AccountKey=")]
    [InlineData("SharedAccessSignature=")]
    public void MainTemplate_NeverReadsAnAccountKey(string marker)
    {
        // Assert: neither the compiled template nor any app setting of either snapshot reads or holds a key.
        Assert.DoesNotContain(marker, infra.TemplateText, StringComparison.OrdinalIgnoreCase);
        Assert.All(
            infra.Snapshots.SelectMany(static s => s.AppSettings),
            setting => Assert.DoesNotContain(marker, setting.Value, StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("AzureWebJobsStorage")]
    [InlineData("Gateway__Storage__ConnectionString")]
    [InlineData("WEBSITE_CONTENTAZUREFILECONNECTIONSTRING")]
    public void MainTemplate_SetsNoStorageConnectionString(string setting)
    {
        // Assert: without these the host and the gateway have no way to a key; they use the identity.
        Assert.All(infra.Snapshots, snapshot => Assert.False(snapshot.AppSettings.ContainsKey(setting), setting));
    }

    [Fact]
    public void MainTemplate_ConnectsHostStorageByIdentity()
    {
        // Arrange
        var snapshot = infra.Example;
        var storage = snapshot.Resource("Microsoft.Storage/storageAccounts");
        var identity = snapshot.Resource("Microsoft.ManagedIdentity/userAssignedIdentities");
        var settings = snapshot.AppSettings;

        // Assert
        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.True(DeploymentSnapshot.IsReferenceTo(settings["AzureWebJobsStorage__clientId"], identity, "clientId"));
        Assert.True(DeploymentSnapshot.IsReferenceTo(settings["AzureWebJobsStorage__blobServiceUri"], storage, "primaryEndpoints.blob"));
        Assert.True(DeploymentSnapshot.IsReferenceTo(settings["AzureWebJobsStorage__tableServiceUri"], storage, "primaryEndpoints.table"));
    }

    [Fact]
    public void MainTemplate_GivesHostNoQueueEndpoint()
    {
        // Assert: only queue, blob and durable triggers use the host's queues; an HTTP-only app gets no endpoint and no
        // queue role (docs/deploy.md, "Role assignments").
        Assert.All(infra.Snapshots, static s => Assert.False(s.AppSettings.ContainsKey("AzureWebJobsStorage__queueServiceUri")));
    }

    [Fact]
    public void MainTemplate_CreatesTheHostAndFilesContainersBesideThePackage()
    {
        // Arrange
        var containers = infra.Example.OfType("Microsoft.Storage/storageAccounts/blobServices/containers")
            .Select(static c => DeploymentSnapshot.ResourceName(c).Split('/')[^1]);

        // Assert: the host and the gateway find their containers and never need to create one (they may not: no
        // account-wide blob role).
        Assert.Equal(
            ["app-package-", "azure-webjobs-hosts", "azure-webjobs-secrets", "qhaigc-files"],
            containers.Select(static c => c.StartsWith("app-package-", StringComparison.Ordinal) ? "app-package-" : c).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void MainTemplate_PointsLocalFilesAtTheContainerItCreates()
    {
        // Arrange
        var snapshot = infra.Example;
        var storage = snapshot.Resource("Microsoft.Storage/storageAccounts");
        var settings = snapshot.AppSettings;
        var containers = snapshot.OfType("Microsoft.Storage/storageAccounts/blobServices/containers")
            .Select(static c => DeploymentSnapshot.ResourceName(c).Split('/')[^1]);

        // Assert: the local upstream's files go to this account's blob endpoint, into the container the template made.
        Assert.True(DeploymentSnapshot.IsReferenceTo(settings["Gateway__Storage__BlobServiceUri"], storage, "primaryEndpoints.blob"));
        Assert.Contains(settings["Gateway__Storage__FilesContainer"], containers);
    }

    [Fact]
    public void MainTemplate_PointsGatewayTablesAtTheStorageAccount()
    {
        // Arrange
        var snapshot = infra.Example;
        var storage = snapshot.Resource("Microsoft.Storage/storageAccounts");
        var identity = snapshot.Resource("Microsoft.ManagedIdentity/userAssignedIdentities");
        var settings = snapshot.AppSettings;
        var tables = snapshot.OfType("Microsoft.Storage/storageAccounts/tableServices/tables")
            .Select(static t => DeploymentSnapshot.ResourceName(t).Split('/')[^1]);

        // Assert: the gateway's tables live in this account and the SDK's DefaultAzureCredential uses this identity.
        Assert.True(DeploymentSnapshot.IsReferenceTo(settings["Gateway__Storage__TableServiceUri"], storage, "primaryEndpoints.table"));
        Assert.Equal(
            new[] { settings[GatewaySettings.KeysTable], settings[GatewaySettings.UsageTable], settings[GatewaySettings.LimitsTable] }
                .Order(StringComparer.Ordinal),
            tables.Order(StringComparer.Ordinal));
        Assert.True(DeploymentSnapshot.IsReferenceTo(settings["AZURE_CLIENT_ID"], identity, "clientId"));
        Assert.Equal("ManagedIdentityCredential", settings["AZURE_TOKEN_CREDENTIALS"]);
    }
}
