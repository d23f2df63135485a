// Example parameters. Works with `az deployment group create --parameters infra/main.bicepparam` and with azd
// (which puts AZURE_ENV_NAME and AZURE_LOCATION in the environment). Holds no secret: only secret NAMES.
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'qhaigc')

param location = readEnvironmentVariable('AZURE_LOCATION', 'swedencentral')

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
