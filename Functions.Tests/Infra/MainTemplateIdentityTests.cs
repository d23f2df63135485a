namespace Qhaigc.Functions.Tests.Infra;

/// <summary>The app runs as one user-assigned identity, granted exactly the data roles it uses.</summary>
[Collection(InfraCollectionDefinition.Name)]
public sealed class MainTemplateIdentityTests(InfraDeployment infra)
{
    public static TheoryData<string> Snapshots => ["main.bicepparam", "scenario.bicepparam"];

    [Theory]
    [MemberData(nameof(Snapshots))]
    public void MainTemplate_RunsAppAsItsUserAssignedIdentity(string parameters)
    {
        // Arrange
        var snapshot = Snapshot(parameters);
        var identityId = DeploymentSnapshot.Id(snapshot.Resource("Microsoft.ManagedIdentity/userAssignedIdentities"));
        var site = snapshot.Resource("Microsoft.Web/sites");
        var properties = DeploymentSnapshot.Properties(site);
        var deployment = properties.GetProperty("functionAppConfig").GetProperty("deployment").GetProperty("storage");

        // Assert: the identity is the app's only identity, and it reads the package and resolves Key Vault references.
        Assert.Equal("UserAssigned", site.GetProperty("identity").GetProperty("type").GetString());
        Assert.Equal([identityId], site.GetProperty("identity").GetProperty("userAssignedIdentities").EnumerateObject().Select(static p => p.Name));
        Assert.Equal(identityId, properties.GetProperty("keyVaultReferenceIdentity").GetString());
        Assert.Equal("UserAssignedIdentity", deployment.GetProperty("authentication").GetProperty("type").GetString());
        Assert.Equal(identityId, deployment.GetProperty("authentication").GetProperty("userAssignedIdentityResourceId").GetString());
    }

    [Theory]
    [MemberData(nameof(Snapshots))]
    public void MainTemplate_GrantsAppIdentityTheDataRolesItUses(string parameters)
    {
        // Arrange
        var snapshot = Snapshot(parameters);
        var identity = snapshot.Resource("Microsoft.ManagedIdentity/userAssignedIdentities");
        var storage = DeploymentSnapshot.Id(snapshot.Resource("Microsoft.Storage/storageAccounts"));
        var vault = DeploymentSnapshot.Id(snapshot.Resource("Microsoft.KeyVault/vaults"));
        var insights = DeploymentSnapshot.Id(snapshot.Resource("Microsoft.Insights/components"));
        var package = DeploymentSnapshot.Id(snapshot.OfType("Microsoft.Storage/storageAccounts/blobServices/containers")
            .Single(static c => DeploymentSnapshot.ResourceName(c).Split('/')[^1].StartsWith("app-package-", StringComparison.Ordinal)));

        // Act
        var appGrants = AppGrants(snapshot, identity);

        // Assert: exactly these seven, each to the identity as a service principal (docs/deploy.md, "Role assignments"):
        // blob roles on four containers (the package, the host's locks, the host's keys, the local upstream's files),
        // never on the account; tables
        // at the account (the gateway's tables and the host's diagnostic events); no queue role at all.
        Assert.Equal(
            new[]
            {
                (package, RoleDefinitions.StorageBlobDataContributor),
                ($"{storage}/blobServices/default/containers/azure-webjobs-hosts", RoleDefinitions.StorageBlobDataOwner),
                ($"{storage}/blobServices/default/containers/azure-webjobs-secrets", RoleDefinitions.StorageBlobDataOwner),
                ($"{storage}/blobServices/default/containers/qhaigc-files", RoleDefinitions.StorageBlobDataContributor),
                (storage, RoleDefinitions.StorageTableDataContributor),
                (vault, RoleDefinitions.KeyVaultSecretsUser),
                (insights, RoleDefinitions.MonitoringMetricsPublisher),
            }.Order(),
            appGrants.Select(static g => (g.Scope, g.RoleDefinitionId)).Order());
        Assert.All(appGrants, static g => Assert.Equal("ServicePrincipal", g.PrincipalType));
    }

    [Theory]
    [MemberData(nameof(Snapshots))]
    public void MainTemplate_GrantsNoBlobOrQueueRoleOnTheWholeAccount(string parameters)
    {
        // Arrange
        var snapshot = Snapshot(parameters);
        var storage = DeploymentSnapshot.Id(snapshot.Resource("Microsoft.Storage/storageAccounts"));
        string[] accountWide = [RoleDefinitions.StorageBlobDataOwner, RoleDefinitions.StorageBlobDataContributor, RoleDefinitions.StorageQueueDataContributor];

        // Act: every assignment of the deployment, whoever it is for.
        var grants = snapshot.OfType("Microsoft.Authorization/roleAssignments").Select(RoleAssignment.From).ToList();

        // Assert: the only grant at the account is the table role; nobody owns every blob.
        Assert.NotEmpty(grants);
        Assert.DoesNotContain(grants, g => string.Equals(g.Scope, storage, StringComparison.OrdinalIgnoreCase) && accountWide.Contains(g.RoleDefinitionId));
        Assert.Equal(
            [RoleDefinitions.StorageTableDataContributor],
            grants.Where(g => string.Equals(g.Scope, storage, StringComparison.OrdinalIgnoreCase)).Select(static g => g.RoleDefinitionId));
    }

    [Theory]
    [MemberData(nameof(Snapshots))]
    public void MainTemplate_LetsAppIdentityReadSecretsAndNothingMore(string parameters)
    {
        // Arrange
        var snapshot = Snapshot(parameters);
        var identity = snapshot.Resource("Microsoft.ManagedIdentity/userAssignedIdentities");
        var vault = snapshot.Resource("Microsoft.KeyVault/vaults");
        var vaultProperties = DeploymentSnapshot.Properties(vault);

        // Act
        var vaultGrants = AppGrants(snapshot, identity).Where(g => g.Scope.StartsWith(DeploymentSnapshot.Id(vault), StringComparison.OrdinalIgnoreCase));

        // Assert: RBAC mode (no access policies to grant more), one read-only role, nothing at a wider scope.
        Assert.True(vaultProperties.GetProperty("enableRbacAuthorization").GetBoolean());
        Assert.False(vaultProperties.TryGetProperty("accessPolicies", out _));
        Assert.Equal(RoleDefinitions.KeyVaultSecretsUser, Assert.Single(vaultGrants).RoleDefinitionId);
        Assert.DoesNotContain(AppGrants(snapshot, identity), g => !g.Scope.Contains("/providers/", StringComparison.Ordinal));
    }

    [Fact]
    public void MainTemplate_GrantsSecretsOfficerToDeployer_UnlessTurnedOff()
    {
        // Arrange
        static RoleAssignment[] OfficerGrants(DeploymentSnapshot snapshot) =>
            [.. snapshot.OfType("Microsoft.Authorization/roleAssignments").Select(RoleAssignment.From)
                .Where(static g => g.RoleDefinitionId == RoleDefinitions.KeyVaultSecretsOfficer)];

        // Act
        var example = OfficerGrants(infra.Example);
        var scenario = OfficerGrants(infra.Scenario);

        // Assert: by default whoever deploys may set the secret values (and only on the vault); an empty id grants nothing.
        var grant = Assert.Single(example);
        Assert.Equal("[deployer().objectId]", grant.PrincipalId);
        Assert.Equal(DeploymentSnapshot.Id(infra.Example.Resource("Microsoft.KeyVault/vaults")), grant.Scope);
        Assert.Empty(scenario);
    }

    private DeploymentSnapshot Snapshot(string parameters) => infra.Snapshots.Single(s => s.Name == parameters);

    private static RoleAssignment[] AppGrants(DeploymentSnapshot snapshot, System.Text.Json.JsonElement identity) =>
        [.. snapshot.OfType("Microsoft.Authorization/roleAssignments").Select(RoleAssignment.From)
            .Where(g => DeploymentSnapshot.IsReferenceTo(g.PrincipalId, identity, "principalId"))];
}
