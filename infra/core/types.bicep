// Types shared by the modules.

@export()
@description('Resource tags: name to value.')
type tagSet = {
  *: string
}

@export()
@description('Application settings: name to value.')
type settingSet = {
  *: string
}

@export()
@description('How storage and Key Vault are reached: public (their public endpoints, by identity) or private (private endpoints in a virtual network the app is integrated with; public endpoints closed).')
type exposureKind = 'public' | 'private'
