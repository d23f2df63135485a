# Checks that every secret the app reads exists in its Key Vault. Run by azd after provisioning (azure.yaml).
$ErrorActionPreference = 'Stop'

if (-not $env:KEY_VAULT_NAME -or -not $env:ADMIN_KEY_SECRET_NAME) {
  throw 'Set KEY_VAULT_NAME and ADMIN_KEY_SECRET_NAME (deployment outputs).'
}

$names = @($env:ADMIN_KEY_SECRET_NAME) + @("$env:UPSTREAM_KEY_SECRET_NAMES" -split ' ' | Where-Object { $_ })
$missing = @()
foreach ($name in $names) {
  $output = az keyvault secret show --vault-name $env:KEY_VAULT_NAME --name $name --query id --output none 2>&1
  if ($LASTEXITCODE -eq 0) {
    Write-Host "Key Vault $($env:KEY_VAULT_NAME): $name is set."
  }
  elseif ("$output" -match 'SecretNotFound') {
    $missing += $name
  }
  else {
    Write-Error "Could not read $name from Key Vault $($env:KEY_VAULT_NAME) (a new role assignment can take a few minutes; with networkExposure private, your address must be in keyVaultAllowedIpRanges, see docs/deploy.md): $output"
  }
}

if ($missing.Count -gt 0) {
  Write-Host ''
  Write-Host "Key Vault $($env:KEY_VAULT_NAME) has no value yet for: $($missing -join ', ')"
  Write-Host 'Set each one as docs/deploy.md shows (step 3), for example:'
  foreach ($name in $missing) {
    Write-Host "  `$value = Read-Host -MaskInput; az keyvault secret set --vault-name $($env:KEY_VAULT_NAME) --name $name --value `$value --output none"
  }
  Write-Host 'then run azd up again; the app is published once every secret is there.'
  exit 1
}
