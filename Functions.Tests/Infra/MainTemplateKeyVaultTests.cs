namespace Qhaigc.Functions.Tests.Infra;

/// <summary>The vault keeps deleted secrets recoverable: purge protection is on unless a throwaway deployment turns it off.</summary>
[Collection(InfraCollectionDefinition.Name)]
public sealed class MainTemplateKeyVaultTests(InfraDeployment infra)
{
    [Fact]
    public void MainTemplate_TurnsOnPurgeProtectionByDefault()
    {
        // Arrange
        var parameter = infra.Template.GetProperty("parameters").GetProperty("keyVaultEnablePurgeProtection");
        var vault = DeploymentSnapshot.Properties(infra.Example.Resource("Microsoft.KeyVault/vaults"));

        // Assert: nobody holding a role on the vault can destroy the admin key or an upstream key for good before the
        // retention ends.
        Assert.True(parameter.GetProperty("defaultValue").GetBoolean());
        Assert.True(vault.GetProperty("enablePurgeProtection").GetBoolean());
        Assert.True(vault.GetProperty("enableSoftDelete").GetBoolean());
        Assert.Equal(90, vault.GetProperty("softDeleteRetentionInDays").GetInt32());
    }

    [Fact]
    public void MainTemplate_LeavesPurgeProtectionAbsent_WhenTurnedOff()
    {
        // Arrange
        var vault = DeploymentSnapshot.Properties(infra.Scenario.Resource("Microsoft.KeyVault/vaults"));

        // Assert: the service accepts only true or no value, and no value never turns off what an earlier deployment
        // turned on.
        Assert.Equal(System.Text.Json.JsonValueKind.Null, vault.GetProperty("enablePurgeProtection").ValueKind);
    }
}
