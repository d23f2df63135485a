#!/bin/sh
# Checks that every secret the app reads exists in its Key Vault. Run by azd after provisioning (azure.yaml); also
# usable by hand: KEY_VAULT_NAME=... ADMIN_KEY_SECRET_NAME=... UPSTREAM_KEY_SECRET_NAMES="a b" infra/hooks/check-secrets.sh
set -eu

: "${KEY_VAULT_NAME:?set KEY_VAULT_NAME (a deployment output)}"
: "${ADMIN_KEY_SECRET_NAME:?set ADMIN_KEY_SECRET_NAME (a deployment output)}"
UPSTREAM_KEY_SECRET_NAMES="${UPSTREAM_KEY_SECRET_NAMES:-}"

missing=""
for name in $ADMIN_KEY_SECRET_NAME $UPSTREAM_KEY_SECRET_NAMES; do
  if error=$(az keyvault secret show --vault-name "$KEY_VAULT_NAME" --name "$name" --query id --output none 2>&1); then
    echo "Key Vault $KEY_VAULT_NAME: $name is set."
  elif printf '%s' "$error" | grep -q "SecretNotFound"; then
    missing="$missing $name"
  else
    echo "Could not read $name from Key Vault $KEY_VAULT_NAME (a new role assignment can take a few minutes; with" >&2
    echo "networkExposure private, your address must be in keyVaultAllowedIpRanges, see docs/deploy.md):" >&2
    echo "$error" >&2
    exit 1
  fi
done

if [ -n "$missing" ]; then
  echo "" >&2
  echo "Key Vault $KEY_VAULT_NAME has no value yet for:$missing" >&2
  echo "Set each one as docs/deploy.md shows (step 3), for example:" >&2
  for name in $missing; do
    echo "  read -rs VALUE && az keyvault secret set --vault-name $KEY_VAULT_NAME --name $name --value \"\$VALUE\" --output none" >&2
  done
  echo "then run azd up again; the app is published once every secret is there." >&2
  exit 1
fi
