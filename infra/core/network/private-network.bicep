// The private network of the "private" exposure: a virtual network with one subnet delegated to Flex Consumption
// (Microsoft.App/environments) that the app joins for all its outbound traffic, one subnet of private endpoints to
// the storage account (blob, table) and the Key Vault, and the private DNS zones that make their usual host names
// resolve to those endpoints inside the network (docs/deploy.md, "Network exposure").

import { tagSet } from '../types.bicep'

@description('Name of the virtual network.')
param name string

@description('Location of the network and the private endpoints.')
param location string

@description('Tags for every resource.')
param tags tagSet

@description('Address space of the network; the app gets its first /24, the private endpoints its second.')
param addressPrefix string

@description('Resource id of the storage account to reach privately.')
param storageAccountId string

@description('Resource id of the Key Vault to reach privately.')
param keyVaultId string

var appSubnetName = 'app'
var endpointSubnetName = 'private-endpoints'

// One private endpoint per service; each puts an A record in its zone.
var endpoints = [
  {
    name: 'blob'
    resourceId: storageAccountId
    groupId: 'blob'
    zone: 'privatelink.blob.${environment().suffixes.storage}'
  }
  {
    name: 'table'
    resourceId: storageAccountId
    groupId: 'table'
    zone: 'privatelink.table.${environment().suffixes.storage}'
  }
  {
    name: 'vault'
    resourceId: keyVaultId
    groupId: 'vault'
    // Key Vault's private link zone; keyvaultDns is '.vault.azure.net' in the public cloud.
    zone: 'privatelink.vaultcore${substring(environment().suffixes.keyvaultDns, length('.vault'))}'
  }
]

resource network 'Microsoft.Network/virtualNetworks@2024-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: appSubnetName
        properties: {
          addressPrefix: cidrSubnet(addressPrefix, 24, 0)
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
          // The gateway calls its upstreams on the internet through this subnet. Newer subnets default to no
          // outbound internet access; this keeps Azure's default outbound access. Attach a NAT gateway instead for a
          // fixed outbound address.
          defaultOutboundAccess: true
        }
      }
      {
        name: endpointSubnetName
        properties: {
          addressPrefix: cidrSubnet(addressPrefix, 24, 1)
          privateEndpointNetworkPolicies: 'Disabled'
          defaultOutboundAccess: false
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for endpoint in endpoints: {
    name: endpoint.zone
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (endpoint, i) in endpoints: {
    parent: zones[i]
    name: name
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: network.id
      }
    }
  }
]

module privateEndpoints 'private-endpoint.bicep' = [
  for (endpoint, i) in endpoints: {
    name: 'pe-${endpoint.name}'
    params: {
      name: 'pe-${endpoint.name}-${name}'
      location: location
      tags: tags
      subnetId: resourceId('Microsoft.Network/virtualNetworks/subnets', network.name, endpointSubnetName)
      serviceId: endpoint.resourceId
      groupId: endpoint.groupId
      privateDnsZoneId: zones[i].id
    }
  }
]

@description('Subnet the function app joins (virtualNetworkSubnetId).')
output appSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', network.name, appSubnetName)
