namespace Qhaigc.Functions.Tests.Infra;

/// <summary>The plan, the app's transport security, monitoring and the outputs a user needs after deploying.</summary>
[Collection(InfraCollectionDefinition.Name)]
public sealed class MainTemplateAppTests(InfraDeployment infra)
{
    [Fact]
    public void MainTemplate_AcceptsHttpsOnlyWithTls12AndNoFtp()
    {
        // Arrange
        var snapshot = infra.Example;
        var site = DeploymentSnapshot.Properties(snapshot.Resource("Microsoft.Web/sites"));
        var siteConfig = site.GetProperty("siteConfig");
        var publishing = snapshot.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies")
            .ToDictionary(static p => DeploymentSnapshot.ResourceName(p).Split('/')[^1], static p => DeploymentSnapshot.Properties(p).GetProperty("allow").GetBoolean());

        // Assert
        Assert.True(site.GetProperty("httpsOnly").GetBoolean());
        Assert.Equal("1.2", siteConfig.GetProperty("minTlsVersion").GetString());
        Assert.Equal("1.2", siteConfig.GetProperty("scmMinTlsVersion").GetString());
        Assert.Equal("Disabled", siteConfig.GetProperty("ftpsState").GetString());
        Assert.Equal(new Dictionary<string, bool> { ["ftp"] = false, ["scm"] = false }, publishing);
    }

    [Fact]
    public void MainTemplate_HostsAppOnFlexConsumptionWithDotnet10()
    {
        // Arrange
        var plan = infra.Example.Resource("Microsoft.Web/serverfarms");
        var site = infra.Example.Resource("Microsoft.Web/sites");
        var config = DeploymentSnapshot.Properties(site).GetProperty("functionAppConfig");

        // Assert
        Assert.Equal("FC1", plan.GetProperty("sku").GetProperty("name").GetString());
        Assert.Equal("FlexConsumption", plan.GetProperty("sku").GetProperty("tier").GetString());
        Assert.True(DeploymentSnapshot.Properties(plan).GetProperty("reserved").GetBoolean());
        Assert.Equal("functionapp,linux", site.GetProperty("kind").GetString());
        Assert.Equal(DeploymentSnapshot.Id(plan), DeploymentSnapshot.Properties(site).GetProperty("serverFarmId").GetString());
        Assert.Equal("dotnet-isolated", config.GetProperty("runtime").GetProperty("name").GetString());
        Assert.Equal("10.0", config.GetProperty("runtime").GetProperty("version").GetString());
        Assert.Equal("api", site.GetProperty("tags").GetProperty("azd-service-name").GetString());
    }

    [Theory]
    [InlineData("main.bicepparam", 2048, 40, 64)]
    [InlineData("scenario.bicepparam", 4096, 100, 32)]
    public void MainTemplate_TakesInstanceMemoryAndScaleOutFromParameters(string parameters, int memory, int maximumInstances, int? httpConcurrency)
    {
        // Arrange
        var snapshot = infra.Snapshots.Single(s => s.Name == parameters);
        var scale = DeploymentSnapshot.Properties(snapshot.Resource("Microsoft.Web/sites"))
            .GetProperty("functionAppConfig").GetProperty("scaleAndConcurrency");

        // Assert: the HTTP concurrency is always set (0 would leave the platform's default: no triggers block at all).
        Assert.Equal(memory, scale.GetProperty("instanceMemoryMB").GetInt32());
        Assert.Equal(maximumInstances, scale.GetProperty("maximumInstanceCount").GetInt32());
        Assert.Equal(
            httpConcurrency,
            scale.TryGetProperty("triggers", out var triggers) ? triggers.GetProperty("http").GetProperty("perInstanceConcurrency").GetInt32() : null);
    }

    [Fact]
    public void MainTemplate_DeploysPackageToAPrivateContainerOfTheAccount()
    {
        // Arrange
        var snapshot = infra.Example;
        var storage = snapshot.Resource("Microsoft.Storage/storageAccounts");
        var container = Assert.Single(
            snapshot.OfType("Microsoft.Storage/storageAccounts/blobServices/containers")
                .Select(static c => DeploymentSnapshot.ResourceName(c).Split('/')[^1]),
            static name => name.StartsWith("app-package-", StringComparison.Ordinal));
        var deployment = DeploymentSnapshot.Properties(snapshot.Resource("Microsoft.Web/sites"))
            .GetProperty("functionAppConfig").GetProperty("deployment").GetProperty("storage");

        // Assert
        Assert.Equal("blobContainer", deployment.GetProperty("type").GetString());
        Assert.Equal(
            $"[format('{{0}}{{1}}', {DeploymentSnapshot.Reference(storage, "primaryEndpoints.blob")}, '{container}')]",
            deployment.GetProperty("value").GetString());
    }

    [Theory]
    [InlineData("FUNCTIONS_WORKER_RUNTIME")]
    [InlineData("FUNCTIONS_EXTENSION_VERSION")]
    [InlineData("WEBSITE_RUN_FROM_PACKAGE")]
    [InlineData("FUNCTIONS_WORKER_RUNTIME_VERSION")]
    [InlineData("WEBSITE_CONTENTSHARE")]
    public void MainTemplate_OmitsSettingsFlexConsumptionRejects(string setting)
    {
        // Assert: Flex Consumption takes these from functionAppConfig (or no longer uses them) and refuses them as settings.
        Assert.All(infra.Snapshots, snapshot => Assert.False(snapshot.AppSettings.ContainsKey(setting), setting));
    }

    [Fact]
    public void MainTemplate_WiresApplicationInsightsWithEntraAuthentication()
    {
        // Arrange
        var snapshot = infra.Example;
        var insights = snapshot.Resource("Microsoft.Insights/components");
        var workspace = snapshot.Resource("Microsoft.OperationalInsights/workspaces");
        var identity = snapshot.Resource("Microsoft.ManagedIdentity/userAssignedIdentities");
        var settings = snapshot.AppSettings;

        // Assert: workspace-based, key-based ingestion off, the app sends as its identity.
        Assert.Equal(DeploymentSnapshot.Id(workspace), DeploymentSnapshot.Properties(insights).GetProperty("WorkspaceResourceId").GetString());
        Assert.True(DeploymentSnapshot.Properties(insights).GetProperty("DisableLocalAuth").GetBoolean());
        Assert.True(DeploymentSnapshot.IsReferenceTo(settings["APPLICATIONINSIGHTS_CONNECTION_STRING"], insights, "ConnectionString"));
        Assert.Equal(
            $"[format('ClientId={{0}};Authorization=AAD', {DeploymentSnapshot.Reference(identity, "clientId")})]",
            settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
        Assert.False(settings.ContainsKey("APPINSIGHTS_INSTRUMENTATIONKEY"));
    }

    [Fact]
    public void MainTemplate_OutputsAppUrlAndTheNamesOfVaultAndStorage()
    {
        // Arrange
        var snapshot = infra.Example;
        var outputs = snapshot.Outputs;
        var site = snapshot.Resource("Microsoft.Web/sites");

        // Assert
        Assert.Equal(DeploymentSnapshot.ResourceName(snapshot.Resource("Microsoft.KeyVault/vaults")), outputs.GetProperty("KEY_VAULT_NAME").GetString());
        Assert.Equal(DeploymentSnapshot.ResourceName(snapshot.Resource("Microsoft.Storage/storageAccounts")), outputs.GetProperty("STORAGE_ACCOUNT_NAME").GetString());
        Assert.Equal(DeploymentSnapshot.ResourceName(site), outputs.GetProperty("FUNCTION_APP_NAME").GetString());
        Assert.Equal(
            $"[format('https://{{0}}', {DeploymentSnapshot.Reference(site, "defaultHostName")})]",
            outputs.GetProperty("FUNCTION_APP_URL").GetString());
    }
}
