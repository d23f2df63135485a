// One private endpoint to one sub-resource of a service (a storage account's blob or table endpoint, a vault), with
// the A record of its address in the private DNS zone of that sub-resource.

import { tagSet } from '../types.bicep'

@description('Name of the private endpoint.')
param name string

@description('Location of the private endpoint (the virtual network\'s).')
param location string

@description('Tags for the private endpoint.')
param tags tagSet

@description('Subnet the endpoint takes its address from.')
param subnetId string

@description('Resource id of the service it reaches.')
param serviceId string

@description('Sub-resource of the service: blob, table or vault.')
param groupId string

@description('Private DNS zone that gets the endpoint\'s A record.')
param privateDnsZoneId string

resource endpoint 'Microsoft.Network/privateEndpoints@2024-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: groupId
        properties: {
          privateLinkServiceId: serviceId
          groupIds: [
            groupId
          ]
        }
      }
    ]
  }
}

resource zoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-07-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: groupId
        properties: {
          privateDnsZoneId: privateDnsZoneId
        }
      }
    ]
  }
}
