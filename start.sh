#!/usr/bin/env bash
# Runs the gateway locally on http://localhost:7071 in standalone mode, with Azurite for storage, the built-in
# `local` upstream and a development key. Needs only the .NET 10 SDK and Node.js.
set -euo pipefail
cd "$(dirname "$0")"

command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (dotnet not found)." >&2; exit 1; }
command -v npm >/dev/null || { echo "Node.js is required (npm not found)." >&2; exit 1; }

# 1. Azurite, pinned in package.json / package-lock.json.
if [ ! -f node_modules/azurite/package.json ]; then
  echo "Installing Azurite (npm ci)..."
  npm ci --no-audit --no-fund --loglevel=error
fi

# 2. Settings: the same local.settings.json serves `func start` and the standalone mode.
if [ ! -f Functions/local.settings.json ]; then
  cp local.settings.sample.json Functions/local.settings.json
  echo "Created Functions/local.settings.json from local.settings.sample.json."
fi

# 3. Start Azurite unless one is already listening.
azurite_pid=""
if (exec 3<>/dev/tcp/127.0.0.1/10002) 2>/dev/null; then
  echo "Azurite is already running on 127.0.0.1:10002."
else
  mkdir -p .azurite
  node node_modules/azurite/dist/src/azurite.js --silent --location .azurite --debug .azurite/debug.log \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 --skipApiVersionCheck &
  azurite_pid=$!
  trap '[ -n "$azurite_pid" ] && kill "$azurite_pid" 2>/dev/null || true' EXIT INT TERM
  for _ in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.1/10002) 2>/dev/null && break
    sleep 0.1
  done
  echo "Azurite started (data in .azurite/)."
fi

dev_key=$(sed -n 's/.*"Gateway__DevKey": *"\([^"]*\)".*/\1/p' Functions/local.settings.json)
admin_key=$(sed -n 's/.*"Gateway__AdminKey": *"\([^"]*\)".*/\1/p' Functions/local.settings.json)
cat <<BANNER

  Qhaigc Functions: http://localhost:7071
  Development key:  ${dev_key:-<none: set Gateway__DevKey in Functions/local.settings.json>}
  Admin key:        ${admin_key:-<none>}

  curl http://localhost:7071/v1/messages -H "x-api-key: ${dev_key}" -H "anthropic-version: 2023-06-01" \\
       -H "content-type: application/json" \\
       -d '{"model":"claude-sonnet-4-5","max_tokens":256,"messages":[{"role":"user","content":"Hello, Claude"}]}'

BANNER

# 4. The gateway (standalone mode). The development key is created at start-up if it does not exist.
dotnet run --project Functions
