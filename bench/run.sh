#!/usr/bin/env bash
# The gateway overhead benchmark: builds in Release, starts Azurite, the fake upstream and the gateway (standalone),
# drives load with wrk and curl from separate processes, prints the comparison and writes it to bench/results/.
# Takes about ten minutes. Options are passed to the runner (bench/README.md): --quick, --max-load N, --gateway-env K=V,
# --baseline REF (the gateway at an earlier commit beside this one, built from a temporary git worktree),
# --skip-count-first, --count-first-rate N, --count-delay-ms N (the fake upstream's count_tokens delay for the count-first scenario).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (dotnet not found)." >&2; exit 1; }
command -v node >/dev/null || { echo "Node.js is required for Azurite (node not found)." >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is required (Debian/Ubuntu: apt-get install curl)." >&2; exit 1; }

# wrk is the load generator (bench/README.md says why). Install it where that is possible without asking.
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing wrk (Debian package)..."
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }
  else
    echo "wrk is required: apt-get install wrk (Debian/Ubuntu), dnf install wrk (Fedora), brew install wrk (macOS)." >&2
    exit 1
  fi
fi

# Azurite, pinned in the repository's package.json.
if [ ! -f node_modules/azurite/package.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build bench/Qhaigc.Bench.slnx -c Release -v quiet -nologo -clp:ErrorsOnly
exec dotnet bench/Qhaigc.Bench.Runner/bin/Release/net10.0/Qhaigc.Bench.Runner.dll "$@"
