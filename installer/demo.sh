#!/usr/bin/env bash
# The demo: three real farmd nodes serve the demo-web module on one VIP, 200 clients, one node killed and
# restarted; everything inside network namespaces that are deleted at the end (also on Ctrl-C).
# Installs what is missing (installer/deps.sh), builds, runs. Root on Debian 12 with the .NET 10 SDK.
# Options are passed to the demo: --keep (keep the farm up until Ctrl-C), --clients N, --help.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/installer/deps.sh"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
echo "== build (Release)"
dotnet build src/Farm.Demo -c Release -v quiet -nologo -clp:NoSummary
exec dotnet "$root/src/Farm.Demo/bin/Release/net10.0/farm-demo.dll" "$@"
