#!/usr/bin/env bash
# Prints the path of a Debian 12 (bookworm) root file system that boots with systemd in systemd-nspawn and has what
# the farm package depends on, building it first when it is not in the cache (debootstrap, ~2.5 min from the mirror
# this host's apt uses). Cached under /var/cache/farm-test (FARM_TEST_CACHE), one folder per package list; a lock
# keeps two test runs from building it at once, and a build is published only once complete.
set -euo pipefail

cache="${FARM_TEST_CACHE:-/var/cache/farm-test}"
# What the farm package depends on, what its demo-web example needs (python3), what the test inspects with (nftables,
# procps), and systemd to boot. Changing the list builds a new root file system.
packages="systemd,systemd-sysv,libgcc-s1,libstdc++6,libssl3,libnftables1,libpcap0.8,netbase,nftables,iproute2,procps,util-linux,python3"
key="$(printf '%s' "bookworm $packages" | sha256sum | cut -c1-12)"
rootfs="$cache/rootfs-bookworm-$key"

if [[ -f "$rootfs/.farm-rootfs-complete" ]]; then
  echo "$rootfs"
  exit 0
fi

command -v debootstrap >/dev/null || { echo "build-rootfs.sh: debootstrap is missing (installer/deps.sh installs it)" >&2; exit 1; }
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [[ -f "$rootfs/.farm-rootfs-complete" ]]; then # built by another run meanwhile
  echo "$rootfs"
  exit 0
fi

# The mirror this host's apt uses for bookworm (deb822 .sources first, then one-line sources.list).
mirror="$(awk '/^URIs:/ {uri = $2} /^Suites:/ && / bookworm( |$)/ {print uri; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
if [[ -z "$mirror" ]]; then
  mirror="$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)"
fi
[[ -n "$mirror" ]] || { echo "build-rootfs.sh: no bookworm mirror in /etc/apt/sources.list(.d)" >&2; exit 1; }

build="$cache/.build-$key-$$"
rm -rf "$build"
trap 'rm -rf "$build"' EXIT
echo "build-rootfs.sh: debootstrap bookworm from $mirror into $rootfs (once)" >&2
debootstrap --variant=minbase --include="$packages" bookworm "$build" "$mirror" >"$cache/debootstrap-$key.log" 2>&1 || {
  echo "build-rootfs.sh: debootstrap failed; see $cache/debootstrap-$key.log" >&2
  exit 1
}

# Each container boots as a fresh machine named by systemd-nspawn: no fixed host name or machine id of the build.
rm -f "$build/etc/hostname"
: >"$build/etc/machine-id"
# Nothing to log in with, nothing to wait for on the console, no periodic apt work.
ln -sf /dev/null "$build/etc/systemd/system/console-getty.service"
ln -sf /dev/null "$build/etc/systemd/system/apt-daily.timer"
ln -sf /dev/null "$build/etc/systemd/system/apt-daily-upgrade.timer"
rm -rf "$build/var/cache/apt/archives/"*.deb "$build/var/lib/apt/lists/"*
touch "$build/.farm-rootfs-complete"
mv "$build" "$rootfs"
trap - EXIT
echo "$rootfs"
