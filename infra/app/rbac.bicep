// Every role assignment of the deployment. The app's identity gets data-plane roles on exactly the resources it
// uses, blob roles on four named containers rather than on the account; the vault grant lets it read secrets and
// nothing more. The optional deployer grant lets the person (or pipeline) who deploys set the secret values
// afterwards. What each grant is for: docs/deploy.md, "Role assignments".

@description('Name of the storage account that holds the deployment package, host state and the gateway tables.')
param storageAccountName string

@description('Blob container that holds the deployment package (Flex Consumption reads and writes it as the app).')
param deploymentContainerName string

@description('Blob containers the Functions host keeps its own state in (locks and keys), created by the template.')
param hostContainerNames string[]

@description('Blob container the built-in local upstream keeps uploaded files in (Gateway:Storage:FilesContainer), created by the template.')
param filesContainerName string

@description('Name of the Key Vault that holds the admin key and upstream keys.')
param keyVaultName string

@description('Name of the Application Insights component the app sends telemetry to.')
param applicationInsightsName string

@description('Resource id of the app\'s user-assigned identity; names the assignments, so they are known before deployment.')
param appIdentityId string

@description('Principal (object) id of the app\'s user-assigned identity.')
param appPrincipalId string

@description('Object id of an existing user, group or service principal that may set the vault\'s secrets; empty for none.')
param keyVaultOfficerPrincipalId string

// Built-in role definition ids (the same in every tenant and cloud).
var roleDefinitions = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' existing = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' existing = {
  parent: blobService
  name: deploymentContainerName
}

resource hostContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' existing = [
  for container in hostContainerNames: {
    parent: blobService
    name: container
  }
]

resource filesContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' existing = {
  parent: blobService
  name: filesContainerName
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = {
  name: keyVaultName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// The deployment package: Flex Consumption writes the package into this container when you publish and reads it
// whenever an instance starts, both as the app's identity. Contributor reads, writes and deletes blobs; nothing more
// is needed, and no other container is reachable through this grant.
resource appDeploymentPackage 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deploymentContainer.id, appIdentityId, roleDefinitions.storageBlobDataContributor)
  scope: deploymentContainer
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roleDefinitions.storageBlobDataContributor
    )
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The Functions host's own state through AzureWebJobsStorage__blobServiceUri: azure-webjobs-hosts holds the host's
// lock leases, azure-webjobs-secrets its host and function keys. Storage Blob Data Owner is the blob role Azure
// Functions documents for an identity-based AzureWebJobsStorage; the template creates both containers, so the host
// finds them and never needs to create a container at the account.
resource appHostState 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (container, i) in hostContainerNames: {
    name: guid(hostContainers[i].id, appIdentityId, roleDefinitions.storageBlobDataOwner)
    scope: hostContainers[i]
    properties: {
      roleDefinitionId: subscriptionResourceId(
        'Microsoft.Authorization/roleDefinitions',
        roleDefinitions.storageBlobDataOwner
      )
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Files uploaded for the built-in local upstream (docs/files.md#local-files): one blob per file, written, read and
// deleted by the gateway. The template creates the container, so the gateway never needs to create one; Contributor
// on this container alone reaches no other blob.
resource appFiles 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(filesContainer.id, appIdentityId, roleDefinitions.storageBlobDataContributor)
  scope: filesContainer
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roleDefinitions.storageBlobDataContributor
    )
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Tables, at the account: the gateway creates and uses its keys, usage and limits tables (Gateway:Storage), and the
// host writes its diagnostic events to a table it names by month (AzureWebJobsStorage__tableServiceUri), so no
// narrower scope exists that covers both.
resource appTables 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appIdentityId, roleDefinitions.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roleDefinitions.storageTableDataContributor
    )
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault references: the platform reads the admin key and upstream keys as the app's identity.
resource appSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appIdentityId, roleDefinitions.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roleDefinitions.keyVaultSecretsUser
    )
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Telemetry: Application Insights accepts data only from Entra identities (local authentication is off).
resource appMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, appIdentityId, roleDefinitions.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roleDefinitions.monitoringMetricsPublisher
    )
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// No principalType: the principal exists already (no replication delay to work around), and may be a user, a
// group or a pipeline's service principal.
resource officerSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(keyVaultOfficerPrincipalId)) {
  name: guid(vault.id, keyVaultOfficerPrincipalId, roleDefinitions.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roleDefinitions.keyVaultSecretsOfficer
    )
    principalId: keyVaultOfficerPrincipalId
  }
}
