// Qhaigc Functions on Azure: a Flex Consumption function app that runs as a user-assigned managed identity, with
// storage, Key Vault and Application Insights reached by that identity alone. No secret passes through this
// template: the admin key and the upstream keys are Key Vault secrets whose values are set after deployment, and
// the app settings only name them (docs/deploy.md).

import { exposureKind } from 'core/types.bicep'

targetScope = 'resourceGroup'

metadata description = 'Qhaigc Functions: serverless Claude API gateway on Azure Functions Flex Consumption.'

@description('An upstream provider that the gateway routes models to (Gateway:Upstreams:{name}).')
type upstream = {
  @description('Name of the upstream in the settings; letters and digits only, unique.')
  @minLength(1)
  @maxLength(32)
  name: string

  @description('Protocol of the upstream.')
  kind: 'anthropic' | 'openai' | 'local'

  @description('Base URL, e.g. https://api.anthropic.com; required for anthropic and openai.')
  baseUrl: string?

  @description('Comma-separated glob patterns of the client model names it serves, e.g. claude-*; absent means *.')
  models: string?

  @description('NAME of the Key Vault secret that holds the upstream API key (never the key itself); absent for no key.')
  @minLength(1)
  @maxLength(127)
  apiKeySecretName: string?
}

@description('Price of the models a Gateway:Prices entry matches, per million tokens, as decimal numbers written as strings (\'3\', \'0.30\').')
type modelPrice = {
  @description('Input tokens.')
  input: string

  @description('Output tokens.')
  output: string

  @description('Cache writes with a 5-minute lifetime; absent means the gateway\'s multiple of the input price.')
  cacheWrite5m: string?

  @description('Cache writes with a 1-hour lifetime; absent means the gateway\'s multiple of the input price.')
  cacheWrite1h: string?

  @description('Cache reads; absent means the gateway\'s multiple of the input price.')
  cacheRead: string?

  @description('Price of 1,000 web searches; absent means Anthropic\'s 10.')
  webSearch: string?

  @description('Price of 1,000 web fetches; absent means 0 (only the tokens fetched are billed).')
  webFetch: string?
}

@description('Prices by model: each name is a client model name or glob (or several, comma-separated), e.g. claude-sonnet-4-5 or claude-haiku-*.')
type priceTable = {
  *: modelPrice
}

@description('Name of the environment (azd environment name); part of every generated resource name.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Location of every resource; by default the resource group\'s. The region must offer the Flex Consumption plan.')
param location string = resourceGroup().location

@description('Upstream providers. Each API key lives in Key Vault under apiKeySecretName.')
param upstreams upstream[]

@description('Name of the Key Vault secret that holds the admin key (Gateway:AdminKey).')
@minLength(1)
@maxLength(127)
param adminKeySecretName string = 'gateway-admin-key'

@description('Table of API keys (Gateway:Storage:KeysTable).')
param keysTableName string = 'QhaigcKeys'

@description('Table of usage records (Gateway:Storage:UsageTable).')
param usageTableName string = 'QhaigcUsage'

@description('Table of per-key rate-limit windows, spend counters and reservations (Gateway:Storage:LimitsTable).')
param limitsTableName string = 'QhaigcLimits'

@description('Memory of each function app instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Most instances the function app scales out to; a ceiling on cost as well as on throughput.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Concurrent HTTP requests per instance before Flex Consumption adds one (a target, not a cap); 0 keeps the platform default.')
@minValue(0)
@maxValue(1000)
param httpPerInstanceConcurrency int = 64

@description('Hard cap on requests one instance runs at once; more are refused with 429 at once, never queued. 0 keeps host.json\'s cap.')
@minValue(0)
@maxValue(5000)
param httpMaxRequestsPerInstance int = 0

@description('Replication of the storage account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_RAGRS'
])
param storageSkuName string = 'Standard_LRS'

@description('Days Log Analytics keeps telemetry.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('Daily Log Analytics ingestion cap in GB; -1 for none.')
@minValue(-1)
param logDailyQuotaGb int = -1

@description('Days a deleted vault or secret stays recoverable.')
@minValue(7)
@maxValue(90)
param keyVaultSoftDeleteRetentionInDays int = 90

@description('Key Vault purge protection: a deleted vault or secret cannot be purged before its retention ends. Irreversible once on; false only for throwaway environments.')
param keyVaultEnablePurgeProtection bool = true

@description('Object id that may set the vault\'s secrets (Key Vault Secrets Officer); defaults to whoever deploys, empty for nobody.')
param keyVaultOfficerPrincipalId string = deployer().objectId

@description('Function app name, which is also its host name; empty to generate one.')
@maxLength(60)
param functionAppName string = ''

@description('public: storage and Key Vault take requests on their public endpoints (by identity only); private: a virtual network with private endpoints, and both public endpoints closed.')
param networkExposure exposureKind = 'public'

@description('With networkExposure private: address space of the virtual network the template creates (at least a /23).')
param virtualNetworkAddressPrefix string = '10.42.0.0/16'

@description('With networkExposure private: public IPv4 addresses or CIDR ranges that may still reach Key Vault (to set secrets); empty closes it.')
param keyVaultAllowedIpRanges string[] = []

@description('Prices by model (Gateway:Prices); empty sets none.')
param prices priceTable = {}

@description('ISO 4217 code of every price and spend cap (Gateway:Prices:Currency); empty keeps the gateway\'s default.')
param pricesCurrency string = ''

@description('Version written into every usage record (Gateway:Prices:Version); empty lets the gateway use a hash of the prices.')
@maxLength(100)
param pricesVersion string = ''

@description('The shipped table of Anthropic\'s list prices under the entries above (Gateway:Prices:Defaults): its version, or none to switch it off; empty keeps the gateway\'s default (on, in USD only).')
@allowed([
  ''
  'anthropic-2026-12'
  'none'
])
param pricesDefaults string = ''

@description('When ended message batches are settled (Gateway:Batches:SettleSchedule, the timer function\'s schedule): a six-field NCRONTAB expression in UTC. The timer needs the setting to exist.')
@minLength(11)
param batchSettleSchedule string = '0 * * * * *'

@description('Address that the alert rules mail (usage records or settlements lost, 5xx rate, an upstream resting, the usage writer behind); empty creates the rules and their action group without a receiver.')
param alertEmail string = ''

@description('Share of calls answered with a 5xx over 15 minutes above which the 5xx alert fires, as a decimal string (\'0.05\' is 5 %).')
param serverErrorRateAlertThreshold string = '0.05'

@description('Minutes an upstream must rest without a break before its alert fires.')
@minValue(5)
@maxValue(1440)
param upstreamRestingAlertMinutes int = 10

@description('Usage records waiting to be written, at the least over 15 minutes, above which the usage writer counts as falling behind.')
@minValue(1)
param usageQueueAlertThreshold int = 1000

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(resourceGroup().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

var appName = !empty(functionAppName) ? functionAppName : '${abbrs.webSitesFunctions}qhaigc-${resourceToken}'
var storageAccountName = '${abbrs.storageStorageAccounts}${resourceToken}'
var keyVaultName = '${abbrs.keyVaultVaults}${resourceToken}'
var applicationInsightsName = '${abbrs.insightsComponents}${resourceToken}'
var deploymentContainerName = 'app-package-${resourceToken}'
var virtualNetworkName = '${abbrs.networkVirtualNetworks}${resourceToken}'

// The Functions host's own containers (lock leases and keys), created here so the host never creates one itself.
var hostContainerNames = [
  'azure-webjobs-hosts'
  'azure-webjobs-secrets'
]

// Where the built-in local upstream keeps uploaded files (docs/files.md#local-files), created here for the same reason.
var filesContainerName = 'qhaigc-files'

@description('App setting value that the platform replaces with the current version of a Key Vault secret.')
func keyVaultReference(vaultName string, secretName string) string =>
  '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=${secretName})'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: '${abbrs.managedIdentityUserAssignedIdentities}${resourceToken}'
  location: location
  tags: tags
}

module monitoring 'core/monitor/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    tags: tags
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: applicationInsightsName
    retentionInDays: logRetentionInDays
    dailyQuotaGb: logDailyQuotaGb
  }
}

// The workbook and the alert rules an operator watches (docs/telemetry.md).
module telemetry 'core/monitor/gateway-telemetry.bicep' = {
  name: 'telemetry'
  // The component is looked up by name in the module, so the order is said here.
  dependsOn: [monitoring]
  params: {
    location: location
    tags: tags
    applicationInsightsName: applicationInsightsName
    namePrefix: 'qhaigc-${resourceToken}'
    alertEmail: alertEmail
    serverErrorRateThreshold: serverErrorRateAlertThreshold
    upstreamRestingMinutes: upstreamRestingAlertMinutes
    usageQueueThreshold: usageQueueAlertThreshold
  }
}

module storage 'core/storage/storage-account.bicep' = {
  name: 'storage'
  params: {
    name: storageAccountName
    location: location
    tags: tags
    skuName: storageSkuName
    containers: concat([deploymentContainerName], hostContainerNames, [filesContainerName])
    tables: [
      keysTableName
      usageTableName
      limitsTableName
    ]
    exposure: networkExposure
  }
}

module keyVault 'core/security/key-vault.bicep' = {
  name: 'key-vault'
  params: {
    name: keyVaultName
    location: location
    tags: tags
    softDeleteRetentionInDays: keyVaultSoftDeleteRetentionInDays
    enablePurgeProtection: keyVaultEnablePurgeProtection
    exposure: networkExposure
    allowedIpRanges: keyVaultAllowedIpRanges
  }
}

module privateNetwork 'core/network/private-network.bicep' = if (networkExposure == 'private') {
  name: 'private-network'
  params: {
    name: virtualNetworkName
    location: location
    tags: tags
    addressPrefix: virtualNetworkAddressPrefix
    storageAccountId: storage.outputs.id
    keyVaultId: keyVault.outputs.id
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  params: {
    storageAccountName: storageAccountName
    deploymentContainerName: deploymentContainerName
    hostContainerNames: hostContainerNames
    filesContainerName: filesContainerName
    keyVaultName: keyVaultName
    applicationInsightsName: applicationInsightsName
    appIdentityId: identity.id
    appPrincipalId: identity.properties.principalId
    keyVaultOfficerPrincipalId: keyVaultOfficerPrincipalId
  }
  // The names above are fixed in advance; the resources must exist before they are granted on.
  dependsOn: [
    monitoring
    storage
    keyVault
  ]
}

// The Functions host's own storage connection, by identity (no connection string, no account key): blob for its
// locks and keys, table for its diagnostic events. No queue: only queue, blob and durable triggers use one, and the
// app has HTTP triggers alone.
var hostSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.properties.clientId
  AzureWebJobsStorage__blobServiceUri: storage.outputs.blobEndpoint
  AzureWebJobsStorage__tableServiceUri: storage.outputs.tableEndpoint
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
  // The gateway's own Azure SDK clients use DefaultAzureCredential: point it at this identity, and at managed
  // identity only, so it neither probes developer credentials nor picks another identity.
  AZURE_CLIENT_ID: identity.properties.clientId
  AZURE_TOKEN_CREDENTIALS: 'ManagedIdentityCredential'
  // The host cuts a request body at 100 MB by default; Anthropic takes files of 500 MB, and the gateway's own upload
  // limit (Gateway:Files:MaxUploadBytes, 500 MiB and 1 MiB of multipart framing) is the one that answers (docs/files.md#limits).
  FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '525336576'
}

// host.json's per-instance request cap, replaced when the parameter sets one (app settings override host.json).
var hostLimitSettings = httpMaxRequestsPerInstance == 0
  ? {}
  : {
      AzureFunctionsJobHost__extensions__http__maxConcurrentRequests: string(httpMaxRequestsPerInstance)
      AzureFunctionsJobHost__extensions__http__maxOutstandingRequests: string(httpMaxRequestsPerInstance)
    }

// The gateway's settings (docs/deploy.md#app-settings-in-azure). Gateway:DevKey is never set in Azure.
var gatewaySettings = {
  Gateway__Storage__TableServiceUri: storage.outputs.tableEndpoint
  Gateway__Storage__KeysTable: keysTableName
  Gateway__Storage__UsageTable: usageTableName
  Gateway__Storage__LimitsTable: limitsTableName
  Gateway__Storage__BlobServiceUri: storage.outputs.blobEndpoint
  Gateway__Storage__FilesContainer: filesContainerName
  Gateway__AdminKey: keyVaultReference(keyVaultName, adminKeySecretName)
  Gateway__Batches__SettleSchedule: batchSettleSchedule
}

var upstreamSettings = reduce(
  upstreams,
  {},
  (settings, u) =>
    union(
      settings,
      {
        'Gateway__Upstreams__${u.name}__Kind': u.kind
      },
      u.?baseUrl == null
        ? {}
        : {
            'Gateway__Upstreams__${u.name}__BaseUrl': u.baseUrl!
          },
      u.?models == null
        ? {}
        : {
            'Gateway__Upstreams__${u.name}__Models': u.models!
          },
      u.?apiKeySecretName == null
        ? {}
        : {
            'Gateway__Upstreams__${u.name}__ApiKey': keyVaultReference(keyVaultName, u.apiKeySecretName!)
          }
    )
)

// One Gateway:Prices entry per model name or glob. Setting names cannot hold '-', '*' or '.', so each entry is
// named by a hash of its pattern and lists the pattern in Models (docs/limits-and-prices.md).
var priceSettings = reduce(
  items(prices),
  union(
    empty(pricesCurrency) ? {} : { Gateway__Prices__Currency: pricesCurrency },
    empty(pricesVersion) ? {} : { Gateway__Prices__Version: pricesVersion },
    empty(pricesDefaults) ? {} : { Gateway__Prices__Defaults: pricesDefaults }
  ),
  (settings, p) =>
    union(
      settings,
      {
        'Gateway__Prices__m${uniqueString(p.key)}__Models': p.key
        'Gateway__Prices__m${uniqueString(p.key)}__Input': p.value.input
        'Gateway__Prices__m${uniqueString(p.key)}__Output': p.value.output
      },
      p.value.?cacheWrite5m == null
        ? {}
        : {
            'Gateway__Prices__m${uniqueString(p.key)}__CacheWrite5m': p.value.cacheWrite5m!
          },
      p.value.?cacheWrite1h == null
        ? {}
        : {
            'Gateway__Prices__m${uniqueString(p.key)}__CacheWrite1h': p.value.cacheWrite1h!
          },
      p.value.?cacheRead == null
        ? {}
        : {
            'Gateway__Prices__m${uniqueString(p.key)}__CacheRead': p.value.cacheRead!
          },
      p.value.?webSearch == null
        ? {}
        : {
            'Gateway__Prices__m${uniqueString(p.key)}__WebSearch': p.value.webSearch!
          },
      p.value.?webFetch == null
        ? {}
        : {
            'Gateway__Prices__m${uniqueString(p.key)}__WebFetch': p.value.webFetch!
          }
    )
)

module functionApp 'core/host/flex-function-app.bicep' = {
  name: 'function-app'
  params: {
    planName: '${abbrs.webServerFarms}${resourceToken}'
    appName: appName
    location: location
    tags: tags
    appTags: {
      'azd-service-name': 'api'
    }
    identityId: identity.id
    deploymentContainerUrl: '${storage.outputs.blobEndpoint}${deploymentContainerName}'
    runtimeName: 'dotnet-isolated'
    runtimeVersion: '10.0'
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    appSettings: union(hostSettings, hostLimitSettings, gatewaySettings, upstreamSettings, priceSettings)
    virtualNetworkSubnetId: networkExposure == 'private' ? privateNetwork!.outputs.appSubnetId : ''
  }
  // Grants first: the app's first start already reads the package, the vault and the tables as its identity.
  dependsOn: [
    rbac
  ]
}

@description('Base URL of the gateway: point the Anthropic SDK\'s base_url here.')
output FUNCTION_APP_URL string = functionApp.outputs.uri

@description('Name of the function app (for func azure functionapp publish).')
output FUNCTION_APP_NAME string = functionApp.outputs.name

@description('Name of the Key Vault; set the secrets below in it.')
output KEY_VAULT_NAME string = keyVault.outputs.name

@description('Name of the storage account (deployment package, host state, gateway tables).')
output STORAGE_ACCOUNT_NAME string = storage.outputs.name

@description('Key Vault secret that must hold the admin key.')
output ADMIN_KEY_SECRET_NAME string = adminKeySecretName

@description('Key Vault secrets that must hold the upstream API keys, separated by spaces (for shell loops).')
output UPSTREAM_KEY_SECRET_NAMES string = join(
  map(filter(upstreams, u => u.?apiKeySecretName != null), u => u.apiKeySecretName!),
  ' '
)
