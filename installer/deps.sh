#!/usr/bin/env bash
# Installs what Farm needs to build, test and run its demo on Debian 12, as root.
# Safe to run again: it installs only what is missing and changes nothing else.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "deps.sh: run as root (it installs Debian packages and the tests create network namespaces)." >&2
  exit 1
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "deps.sh: the .NET 10 SDK is required and was not found on PATH (install it first: https://learn.microsoft.com/dotnet/core/install/linux-debian)." >&2
  exit 1
fi

# Debian packages the build, the tests and the demo use (command they provide in brackets):
#   nftables (nft) + libnftables1: the data plane and the kernel-parity test
#   iproute2 (ip): network namespaces, veth, bridges
#   libpcap0.8: raw ARP/NDP frames
#   conntrack, tcpdump, arping: inspection and end-to-end checks
#   nodejs + npm: the @grpc/grpc-js interop tests
#   python3: the example module's web app (docs/examples/modules/demo-web)
#   systemd-container (systemd-nspawn) + debootstrap: the package test boots Debian 12 containers with real systemd
#   binutils (objdump): installer/package.sh derives the package's glibc dependency
#   prometheus (promtool) + curl: the console port's end-to-end test checks every node's /metrics with promtool
#   chromium: the web console's browser test (Playwright drives it; Playwright's own browser download cannot work here)
wanted=(nftables libnftables1 iproute2 libpcap0.8 conntrack tcpdump arping ca-certificates python3 systemd-container debootstrap binutils prometheus curl chromium)
command -v node >/dev/null 2>&1 || wanted+=(nodejs)
command -v npm >/dev/null 2>&1 || wanted+=(npm)

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Only promtool is wanted from the prometheus package: where systemd runs, its install also enabled and started a
  # Prometheus server (port 9090). Undo that, once, when this run installed it.
  if [[ " ${missing[*]} " == *" prometheus "* ]] && [[ -d /run/systemd/system ]]; then
    systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi
fi

# npm packages of the gRPC interop fixtures (exact versions from each package-lock.json).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for lock in "$root"/tests/*/interop/package-lock.json; do
  [[ -f "$lock" ]] || continue
  fixture="$(dirname "$lock")"
  # Also when the lock file changed since the last install (npm records what it installed in node_modules/.package-lock.json).
  if [[ ! -d "$fixture/node_modules" || "$lock" -nt "$fixture/node_modules/.package-lock.json" ]]; then
    echo "deps.sh: npm ci in ${fixture#"$root"/}"
    (cd "$fixture" && npm ci --no-audit --no-fund --silent)
  fi
done
