#!/usr/bin/env bash
# In-process cost of the responder's frame codec (parse a request, build the reply): NeighborFrames.cs of commit BEFORE
# against this tree's, compiled side by side into a throwaway console (tests/bench/neighbor/codec/Program.cs) in a
# temporary folder. No network, no root needed. Prints a table and appends it, with date, commits and command, to FILE.
#
# Usage: tests/bench/neighbor/codec.sh BEFORE [--out FILE=tests/bench/results/neighbor.md]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
if [[ $# -lt 1 || "$1" == -* ]]; then
  sed -n '2,6p' "$0" >&2
  exit 2
fi
before="$(git rev-parse --short "$1")"
shift
out="tests/bench/results/neighbor.md"
if [[ "${1:-}" == "--out" ]]; then out="$2"; fi
after="$(git rev-parse --short HEAD)"
if [[ -n "$(git status --porcelain -- src/Farm.DataPlane/Neighbors Directory.Packages.props tests/bench/neighbor)" ]]; then
  after="$after+dirty"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/farm-codec.XXXXXX")"
trap 'rm -rf "$work"' EXIT
packet_dotnet="$(sed -n 's/.*Include="PacketDotNet" Version="\([^"]*\)".*/\1/p' Directory.Packages.props)"
cat > "$work/codec.csproj" <<PROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <NoWarn>\$(NoWarn);CS8600;CS8602</NoWarn>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="PacketDotNet" Version="$packet_dotnet" />
  </ItemGroup>
</Project>
PROJ
cp tests/bench/neighbor/codec/Program.cs src/Farm.DataPlane/Neighbors/{NeighborFrames,ArpRequest,NeighborSolicitation}.cs "$work/"
git show "$before:src/Farm.DataPlane/Neighbors/NeighborFrames.cs" \
  | sed 's/^namespace Farm.DataPlane.Neighbors;/namespace Before;\nusing Farm.DataPlane.Neighbors;/' > "$work/BeforeFrames.cs"
dotnet build -c Release -v quiet -nologo "$work/codec.csproj" >/dev/null
load="$(cut -d' ' -f1 /proc/loadavg)"
table="$(dotnet "$work/bin/Release/net10.0/codec.dll")"
cpu="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)"
section="$(cat <<SECTION
## Frame codec in process: $(date -u '+%Y-%m-%d %H:%M') UTC, NeighborFrames of $before vs $after

- Command: \`tests/bench/neighbor/codec.sh $before\`; ${cpu:-unknown CPU}, $(nproc) cores, $(uname -r), .NET SDK $(dotnet --version), PacketDotNet $packet_dotnet; 1-minute load average before: $load
- Per frame as the responder handles it: ARP parse (and, for the NS, the NS parse after a failed ARP parse), then the reply built. 200000 frames per round after a warm-up; allocation from \`GC.GetAllocatedBytesForCurrentThread\`.

$table

SECTION
)"
echo "$section"
printf '%s\n' "$section" >> "$out"
echo "appended to $out"
