// Key Vault in Azure RBAC mode: access is granted with role assignments only, never with access policies. The
// template creates no secrets; their values are set after deployment (docs/deploy.md). With private exposure the app
// reaches it through a private endpoint, and its public endpoint answers only the listed operator addresses.

import { exposureKind, tagSet } from '../types.bicep'

@description('Name of the vault (3-24 letters, digits and hyphens).')
@minLength(3)
@maxLength(24)
param name string

@description('Location of the vault.')
param location string

@description('Tags for the vault.')
param tags tagSet

@description('Days a deleted vault or secret can be recovered.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int

@description('When true, deleted secrets and the vault cannot be purged before the retention ends. It cannot be turned off again.')
param enablePurgeProtection bool

@description('public: the public endpoint accepts requests (still by Entra identity and role only); private: it refuses every request but those from allowedIpRanges.')
param exposure exposureKind

@description('With private exposure: public IPv4 addresses or CIDR ranges that may still reach the public endpoint (whoever sets the secrets); empty closes it.')
param allowedIpRanges string[]

var ipRules = [
  for range in allowedIpRanges: {
    value: range
  }
]

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // The service accepts only true or an absent value here.
    enablePurgeProtection: enablePurgeProtection ? true : null
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: exposure == 'private' && empty(allowedIpRanges) ? 'Disabled' : 'Enabled'
    networkAcls: exposure == 'private'
      ? {
          bypass: 'None'
          defaultAction: 'Deny'
          ipRules: ipRules
        }
      : {
          bypass: 'AzureServices'
          defaultAction: 'Allow'
        }
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
