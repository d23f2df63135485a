#!/usr/bin/env bash
# The serverless-scale measurements (bench/README.md), each the gateway and the bare proxy in the same run:
#   bench/scale.sh coldstart   [--launches 7]                       launch to first answered call, alternating
#   bench/scale.sh coldstart --functions [--launches 5]             the same for the Functions worker under the emulated host
#   bench/scale.sh stream-cpu  [--rounds 3] [--seconds 5]           CPU per streamed event at saturation (50 and 200 events)
#   bench/scale.sh streams     [--streams 5000] [--events-per-second 20] [--stream-seconds 30] [--ramp-seconds 10]
# Also --gateway-env NAME=VALUE (gateway processes only) and --env NAME=VALUE (every process measured).
# coldstart also takes --published (ReadyToRun, as deployed). Builds in Release, starts Azurite and the fake upstream,
# writes bench/results/scale-MODE-latest.md (scale-coldstart-functions-latest.md with --functions). Nothing is left running.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (dotnet not found)." >&2; exit 1; }
command -v node >/dev/null || { echo "Node.js is required for Azurite (node not found)." >&2; exit 1; }
if [ "${1:-}" = "stream-cpu" ] && ! command -v wrk >/dev/null; then
  echo "wrk is required for stream-cpu: apt-get install wrk (bench/README.md)." >&2
  exit 1
fi

if [ ! -f node_modules/azurite/package.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# Thousands of open streams hold a socket each in the client, the gateway (two) and the fake upstream.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build bench/Qhaigc.Bench.slnx -c Release -v quiet -nologo -clp:ErrorsOnly
exec dotnet bench/Qhaigc.Bench.Runner/bin/Release/net10.0/Qhaigc.Bench.Runner.dll "$@"
