// Example parameters, for `az deployment group create --parameters infra/main.bicepparam` and for azd (which puts
// AZURE_ENV_NAME in the environment). Every resource goes to the resource group's region. Holds no secret, only the
// NAMES of Key Vault secrets.
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'qhaigc')

// One upstream: Anthropic's API for every claude-* model. Add more objects for more providers; each API key is
// stored in Key Vault under apiKeySecretName after deployment.
param upstreams = [
  {
    name: 'anthropic'
    kind: 'anthropic'
    baseUrl: 'https://api.anthropic.com'
    models: 'claude-*'
    apiKeySecretName: 'upstream-anthropic-api-key'
  }
]

param instanceMemoryMB = 2048

param maximumInstanceCount = 40

// Prices per million tokens by model name or glob (Gateway:Prices), strings so that decimals stay exact; none by
// default. See docs/deploy.md, "Prices". For example:
// param prices = {
//   'claude-sonnet-4-5': { input: '3', output: '15' }
// }

// 'private' closes the public endpoints of storage and Key Vault (docs/deploy.md, "Network exposure").
param networkExposure = 'public'
