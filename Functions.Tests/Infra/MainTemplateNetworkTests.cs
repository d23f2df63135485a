using System.Text.Json;

namespace Qhaigc.Functions.Tests.Infra;

/// <summary>
/// The network exposure of storage and Key Vault: <c>public</c> (the default) keeps their public endpoints, reached by
/// identity only; <c>private</c> closes them and gives the app a virtual network with private endpoints
/// (docs/deploy.md, "Network exposure").
/// </summary>
[Collection(InfraCollectionDefinition.Name)]
public sealed class MainTemplateNetworkTests(InfraDeployment infra)
{
    private static readonly string[] NetworkTypes =
    [
        "Microsoft.Network/virtualNetworks",
        "Microsoft.Network/privateEndpoints",
        "Microsoft.Network/privateDnsZones",
    ];

    [Fact]
    public void MainTemplate_OffersPublicAndPrivateExposure_PublicByDefault()
    {
        // Arrange: the parameter's type is a definition of the template ("#/definitions/<name>").
        var parameter = infra.Template.GetProperty("parameters").GetProperty("networkExposure");
        var type = infra.Template.GetProperty("definitions").GetProperty(parameter.GetProperty("$ref").GetString()!.Split('/')[^1]);

        // Assert
        Assert.Equal("public", parameter.GetProperty("defaultValue").GetString());
        Assert.Equal(["private", "public"], type.GetProperty("allowedValues").EnumerateArray().Select(static v => v.GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void MainTemplate_KeepsPublicEndpointsAndCreatesNoNetwork_WhenPublic()
    {
        // Arrange
        var snapshot = infra.Example;
        var storage = DeploymentSnapshot.Properties(snapshot.Resource("Microsoft.Storage/storageAccounts"));
        var vault = DeploymentSnapshot.Properties(snapshot.Resource("Microsoft.KeyVault/vaults"));
        var site = DeploymentSnapshot.Properties(snapshot.Resource("Microsoft.Web/sites"));

        // Assert
        Assert.Equal("Enabled", storage.GetProperty("publicNetworkAccess").GetString());
        Assert.Equal("Enabled", vault.GetProperty("publicNetworkAccess").GetString());
        Assert.All(NetworkTypes, type => Assert.Empty(snapshot.OfType(type)));
        Assert.True(
            !site.TryGetProperty("virtualNetworkSubnetId", out var subnet) || subnet.ValueKind == JsonValueKind.Null,
            "a public deployment joins no subnet");
    }

    [Fact]
    public void MainTemplate_ClosesStorageToEverythingButPrivateEndpoints_WhenPrivate()
    {
        // Arrange
        var storage = DeploymentSnapshot.Properties(infra.Scenario.Resource("Microsoft.Storage/storageAccounts"));
        var acls = storage.GetProperty("networkAcls");

        // Assert: no public route at all, not even for "trusted" Azure services.
        Assert.Equal("Disabled", storage.GetProperty("publicNetworkAccess").GetString());
        Assert.Equal("Deny", acls.GetProperty("defaultAction").GetString());
        Assert.Equal("None", acls.GetProperty("bypass").GetString());
    }

    [Fact]
    public void MainTemplate_OpensKeyVaultToTheListedOperatorAddressesOnly_WhenPrivate()
    {
        // Arrange
        var vault = DeploymentSnapshot.Properties(infra.Scenario.Resource("Microsoft.KeyVault/vaults"));
        var acls = vault.GetProperty("networkAcls");

        // Assert: whoever sets the secrets reaches the vault from the listed addresses; everything else is refused.
        Assert.Equal("Enabled", vault.GetProperty("publicNetworkAccess").GetString());
        Assert.Equal("Deny", acls.GetProperty("defaultAction").GetString());
        Assert.Equal("None", acls.GetProperty("bypass").GetString());
        Assert.Equal(
            ["203.0.113.7", "198.51.100.0/28"],
            acls.GetProperty("ipRules").EnumerateArray().Select(static r => r.GetProperty("value").GetString()));
    }

    [Fact]
    public void MainTemplate_JoinsTheAppToADelegatedSubnet_WhenPrivate()
    {
        // Arrange
        var snapshot = infra.Scenario;
        var network = snapshot.Resource("Microsoft.Network/virtualNetworks");
        var subnets = DeploymentSnapshot.Properties(network).GetProperty("subnets").EnumerateArray()
            .ToDictionary(static s => s.GetProperty("name").GetString()!, static s => s.GetProperty("properties"), StringComparer.Ordinal);
        var site = DeploymentSnapshot.Properties(snapshot.Resource("Microsoft.Web/sites"));

        // Assert: Flex Consumption needs a subnet delegated to Microsoft.App/environments; the app's outbound traffic
        // (storage, Key Vault references, the upstreams) leaves through it.
        Assert.Equal(["10.7.0.0/16"], DeploymentSnapshot.Properties(network).GetProperty("addressSpace").GetProperty("addressPrefixes").EnumerateArray().Select(static p => p.GetString()));
        Assert.Equal(["app", "private-endpoints"], subnets.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(
            ["Microsoft.App/environments"],
            subnets["app"].GetProperty("delegations").EnumerateArray().Select(static d => d.GetProperty("properties").GetProperty("serviceName").GetString()));
        Assert.True(subnets["app"].GetProperty("defaultOutboundAccess").GetBoolean());
        Assert.Equal($"{DeploymentSnapshot.Id(network)}/subnets/app", site.GetProperty("virtualNetworkSubnetId").GetString());
    }

    [Fact]
    public void MainTemplate_ReachesBlobTableAndVaultThroughPrivateEndpoints_WhenPrivate()
    {
        // Arrange
        var snapshot = infra.Scenario;
        var network = DeploymentSnapshot.Id(snapshot.Resource("Microsoft.Network/virtualNetworks"));
        var storage = DeploymentSnapshot.Id(snapshot.Resource("Microsoft.Storage/storageAccounts"));
        var vault = DeploymentSnapshot.Id(snapshot.Resource("Microsoft.KeyVault/vaults"));
        var endpoints = snapshot.OfType("Microsoft.Network/privateEndpoints").ToList();
        var zoneGroups = snapshot.OfType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups")
            .Select(static g => DeploymentSnapshot.Id(g)).ToList();

        // Act: (service, sub-resource) of each endpoint.
        var targets = endpoints.Select(static e =>
        {
            var connection = Assert.Single(DeploymentSnapshot.Properties(e).GetProperty("privateLinkServiceConnections").EnumerateArray()).GetProperty("properties");
            return (connection.GetProperty("privateLinkServiceId").GetString()!, Assert.Single(connection.GetProperty("groupIds").EnumerateArray()).GetString()!);
        });

        // Assert: the host's blob (package, locks, keys), the tables, and the vault; each endpoint in the endpoints
        // subnet and registered in its private DNS zone, and each zone linked to the network.
        Assert.Equal(
            new[] { (storage, "blob"), (storage, "table"), (vault, "vault") }.Order(),
            targets.Order());
        Assert.All(endpoints, e => Assert.Equal(
            $"{network}/subnets/private-endpoints",
            DeploymentSnapshot.Properties(e).GetProperty("subnet").GetProperty("id").GetString()));
        Assert.All(endpoints, e => Assert.Contains($"{DeploymentSnapshot.Id(e)}/privateDnsZoneGroups/default", zoneGroups));
        Assert.Equal(3, snapshot.OfType("Microsoft.Network/privateDnsZones").Count());
        Assert.All(
            snapshot.OfType("Microsoft.Network/privateDnsZones/virtualNetworkLinks"),
            link => Assert.Equal(network, DeploymentSnapshot.Properties(link).GetProperty("virtualNetwork").GetProperty("id").GetString()));
        Assert.Equal(3, snapshot.OfType("Microsoft.Network/privateDnsZones/virtualNetworkLinks").Count());
    }
}
