// A Flex Consumption (FC1) plan and a Linux function app on it that runs as one user-assigned managed identity:
// the identity fetches the deployment package, resolves Key Vault references and reaches host storage.

import { settingSet, tagSet } from '../types.bicep'

@description('Name of the Flex Consumption plan.')
param planName string

@description('Name of the function app; also the first label of its host name.')
param appName string

@description('Location of the plan and the app.')
param location string

@description('Tags for the plan.')
param tags tagSet

@description('Tags for the app only (for example azd-service-name).')
param appTags tagSet

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Blob container URL that holds the deployment package.')
param deploymentContainerUrl string

@description('Functions runtime stack.')
@allowed([
  'dotnet-isolated'
])
param runtimeName string

@description('Runtime version.')
param runtimeVersion string

@description('Memory of each instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Concurrent HTTP requests per instance before another instance is added; 0 keeps the platform default, which depends on the instance memory.')
@minValue(0)
@maxValue(1000)
param httpPerInstanceConcurrency int

@description('Application settings (name to value). No secret values: secrets are Key Vault references.')
param appSettings settingSet

@description('Subnet (delegated to Microsoft.App/environments) that the app sends all its outbound traffic through; empty for none.')
param virtualNetworkSubnetId string

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2025-03-01' = {
  name: appName
  location: location
  tags: union(tags, appTags)
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // With only a user-assigned identity, Key Vault references must name it, or they stay unresolved text.
    keyVaultReferenceIdentity: identityId
    publicNetworkAccess: 'Enabled'
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: [
        for setting in items(appSettings): {
          name: setting.key
          value: setting.value
        }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: union(
        {
          instanceMemoryMB: instanceMemoryMB
          maximumInstanceCount: maximumInstanceCount
        },
        httpPerInstanceConcurrency == 0
          ? {}
          : {
              triggers: {
                http: {
                  perInstanceConcurrency: httpPerInstanceConcurrency
                }
              }
            }
      )
      runtime: {
        name: runtimeName
        version: runtimeVersion
      }
    }
  }
}

// Publishing authenticates with Microsoft Entra ID (func, az and azd all do); user-name/password publishing stays off.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = app.name
output uri string = 'https://${app.properties.defaultHostName}'
