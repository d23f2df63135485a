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
