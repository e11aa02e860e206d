#!/usr/bin/env bash
# Builds Farm's packages from this checkout:
#   deb      artifacts/package/farm_<version>_amd64.deb: farmd and farmctl published self-contained for linux-x64
#            (ReadyToRun; no .NET runtime needed on the node) in /usr/lib/farm/{farmd,farmctl}, /usr/bin/farmd and farmctl, the
#            systemd unit farmd.service, /etc/farm (cluster.yaml.example 0600, modules/), /etc/default/farmd, bash
#            completion for farmctl and the docs in /usr/share/doc/farm. Built with dpkg-deb, as root or not.
#   windows  artifacts/package/farm-<version>-win-x64/: farmd\farmd.exe and farmctl\farmctl.exe, self-contained for win-x64,
#            with installer/windows/farmd-service.ps1 (registers farmd as a Windows service).
#   farmd    farmd alone, published for linux-x64 exactly as the deb ships it, into the --output folder itself (which
#            must be new or empty; give --output, and build this target alone): what --farmd-publish takes. tests/run.sh
#            publishes the tests' farmd this way (artifacts/test-farmd).
# Usage: installer/package.sh [--version VERSION] [--output DIR] [--farmd-publish DIR] [deb] [windows] [farmd]
#        (default target: deb)
# VERSION defaults to 0.1.0~git<date of the last commit>.<commit>, a Debian version that sorts by commit date.
# --farmd-publish DIR: the deb takes farmd from DIR instead of publishing it again (the composite ReadyToRun compilation
#            of farmd is ~2-2.5 min on 2 cores). DIR must be what the farmd target publishes from this checkout with the
#            same VERSION (self-contained linux-x64, composite ReadyToRun, no debug files, English resources only): it
#            is checked and refused otherwise, then copied; DIR itself is never changed. The package is then the same,
#            file for file, as one built without the option.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base_version=0.1.0
version=""
version_given=0
output="$root/artifacts/package"
output_given=0
farmd_publish=""
targets=()
while (($#)); do
  case "$1" in
    --version) version="${2:?--version needs a value}"; version_given=1; shift 2 ;;
    --version=*) version="${1#*=}"; version_given=1; shift ;;
    --output) output="${2:?--output needs a value}"; output_given=1; shift 2 ;;
    --output=*) output="${1#*=}"; output_given=1; shift ;;
    --farmd-publish) farmd_publish="${2:?--farmd-publish needs a folder}"; shift 2 ;;
    --farmd-publish=*) farmd_publish="${1#*=}"; shift ;;
    deb|windows|farmd) targets+=("$1"); shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "package.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
((${#targets[@]})) || targets=(deb)

if [[ -z "$version" ]]; then
  if commit="$(git -C "$root" log -1 --format='%cd.%h' --date=format:%Y%m%d 2>/dev/null)"; then
    version="$base_version~git$commit"
  else
    version="$base_version"
  fi
fi
if [[ ! "$version" =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
  echo "package.sh: '$version' is not a Debian version (digits first, then letters, digits, . + ~)" >&2
  exit 2
fi
# The assembly version takes digits only: 0.1.0~git20261203.abc -> 0.1.0, the rest goes into the informational version.
assembly_version="${version%%[~+]*}"

# The farmd target publishes into --output itself, so it is built alone and into a folder holding nothing else.
if [[ " ${targets[*]} " == *" farmd "* ]]; then
  if ((${#targets[@]} > 1)); then
    echo "package.sh: the farmd target publishes into the --output folder itself: build it alone (not with ${targets[*]})" >&2
    exit 2
  fi
  if ((!output_given)); then
    echo "package.sh: the farmd target publishes into the --output folder itself: name a new or empty one with --output DIR" >&2
    exit 2
  fi
  if [[ -e "$output" && ! -d "$output" ]] || { [[ -d "$output" ]] && [[ -n "$(ls -A "$output")" ]]; }; then
    echo "package.sh: --output $output is not a new or empty folder: the farmd target publishes only into one (name another)" >&2
    exit 2
  fi
  if [[ -n "$farmd_publish" ]]; then
    echo "package.sh: --farmd-publish is for the deb target, not farmd" >&2
    exit 2
  fi
fi

# Refuses (exit 2) a farmd folder unlike the one the farmd target publishes from this checkout: a .deb built with
# --farmd-publish holds what one built without the option holds. What cannot be seen in the files (a change to the
# source not yet committed when the folder was published) is the caller's to avoid.
check_farmd_publish() { # DIR
  local dir="$1" head extra again=""
  ((version_given)) && again=" --version $version"
  refuse() {
    echo "package.sh: --farmd-publish $dir: $1." >&2
    echo "  Publish farmd from this checkout into a new or empty folder with: installer/package.sh$again --output DIR farmd" >&2
    echo "  (or build the package without --farmd-publish: it then publishes farmd itself)." >&2
    exit 2
  }
  [[ -f "$dir" ]] && refuse "a file, not a folder (name the folder that holds farmd: $(dirname "$dir"))"
  [[ -d "$dir" ]] || refuse "no such folder"
  [[ -f "$dir/farmd" && -x "$dir/farmd" ]] || refuse "it holds no executable farmd (the folder of a published farmd is wanted)"
  # ELF header: magic, 64-bit (class 2), machine x86-64 (0x3e) at byte 18.
  head="$(od -An -tx1 -N20 "$dir/farmd" | tr -d ' \n')"
  [[ "$head" == 7f454c4602* && "${head:36:4}" == 3e00 ]] ||
    refuse "farmd is not a Linux x86-64 executable (package.sh publishes -r linux-x64)"
  grep -q '"name": "\.NETCoreApp,Version=v[0-9.]*/linux-x64"' "$dir/farmd.deps.json" 2>/dev/null ||
    refuse "farmd.deps.json does not name the runtime linux-x64 (package.sh publishes -r linux-x64)"
  grep -q '"includedFrameworks"' "$dir/farmd.runtimeconfig.json" 2>/dev/null && [[ -f "$dir/libcoreclr.so" && -f "$dir/libhostfxr.so" ]] ||
    refuse "farmd is not self-contained (no .NET runtime in the folder; package.sh publishes --self-contained)"
  [[ -f "$dir/farmd.r2r.dll" ]] ||
    refuse "no composite ReadyToRun image farmd.r2r.dll (package.sh publishes -p:PublishReadyToRun=true, composite for Linux: Farm.Daemon.csproj)"
  extra="$(cd "$dir" && find . -mindepth 1 -type d -printf '%P\n' | sort | head -n 3 | tr '\n' ' ')"
  [[ -z "$extra" ]] ||
    refuse "it holds folders (${extra% }): package.sh publishes -p:SatelliteResourceLanguages=en, which leaves none"
  extra="$(cd "$dir" && find . -maxdepth 1 -type f \( -name '*.pdb' -o -name '*.dbg' \) -printf '%P\n' | sort | head -n 3 | tr '\n' ' ')"
  [[ -z "$extra" ]] || refuse "farmd was published with debug information (${extra% }...): package.sh publishes -p:DebugType=none"
  ! LC_ALL=C grep -qaF 'farmd.pdb' "$dir/farmd.dll" ||
    refuse "farmd was published with debug information (farmd.dll names farmd.pdb): package.sh publishes -p:DebugType=none"
  # The informational version, as the attribute's blob holds it: its length, then "$version" or "$version+<commit>"
  # (the SDK appends the commit id, 40 or 64 hex digits), then the two bytes of "no named arguments".
  local pattern="" length
  for length in 0 40 64; do
    pattern+="${pattern:+|}$(blob_length $((${#version} + (length ? length + 1 : 0))))\\Q$version\\E"
    ((length)) && pattern+="\\+[0-9a-f]{$length}"
    pattern+='\x00\x00'
  done
  grep -qF "\"farmd/$assembly_version\"" "$dir/farmd.deps.json" && LC_ALL=C grep -qaP -- "$pattern" "$dir/farmd.dll" ||
    refuse "farmd is not version $version, this package's (published from another commit or with another --version)"
}
# The compressed length of a metadata blob (ECMA-335 II.23.2) as a grep -P pattern: one byte below 128, else two.
blob_length() { # LENGTH
  if (($1 < 128)); then printf '\\x%02x' "$1"; else printf '\\x%02x\\x%02x' $((0x80 | $1 >> 8)) $(($1 & 0xff)); fi
}
if [[ -n "$farmd_publish" ]]; then
  if [[ " ${targets[*]} " != *" deb "* ]]; then
    echo "package.sh: --farmd-publish is for the deb target (the Windows publish is for win-x64)" >&2
    exit 2
  fi
  check_farmd_publish "$farmd_publish"
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
mkdir -p "$output"
work="$(mktemp -d "${TMPDIR:-/tmp}/farm-package.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Each program gets a folder of its own: one folder for both let farmctl's publish overwrite a runtime file of farmd with
# an older version from a NuGet package (Microsoft.Extensions.Logging.Abstractions 8.0 over ASP.NET Core's 10.0: farmd
# no longer started). Not trimmed: ASP.NET Core and the YAML binder use reflection. ReadyToRun measured on 2 cores:
# farmd starts in ~0.6 s instead of ~1.0 s, `farmctl --help` answers in ~0.13 s instead of ~0.22 s
# (docs/operations.md, "Installing").
publish() { # PROJECT RID OUTPUT EXTRA...
  local project="$1" rid="$2" out="$3"
  shift 3
  echo "== publish $project ($rid)"
  dotnet publish "$root/$project" -c Release -r "$rid" --self-contained -o "$out" -v quiet -nologo -clp:NoSummary \
    -p:DebugType=none -p:SatelliteResourceLanguages=en -p:Version="$assembly_version" \
    -p:InformationalVersion="$version" "$@"
  rm -f "$out"/*.pdb "$out"/*.dbg
}

# farmd for Linux as the deb ships it and the farmd target publishes it (one definition for both).
publish_farmd_linux() { # OUTPUT
  publish src/Farm.Daemon linux-x64 "$1" -p:PublishReadyToRun=true
}

build_deb() {
  local pkg="$work/deb" lib="$work/deb/usr/lib/farm" doc="$work/deb/usr/share/doc/farm"
  if [[ -n "$farmd_publish" ]]; then
    # Checked above; copied, so that the modes set below change the copy, never the caller's folder.
    echo "== farmd from $farmd_publish (not published again)"
    mkdir -p "$lib/farmd"
    cp -a "$farmd_publish/." "$lib/farmd/"
  else
    publish_farmd_linux "$lib/farmd"
  fi
  publish src/Farm.Cli linux-x64 "$lib/farmctl" -p:PublishReadyToRun=true
  # dotnet publish leaves 0744 everywhere: libraries and data 0644, the programs 0755.
  find "$lib" -type f -exec chmod 0644 {} +
  chmod 0755 "$lib/farmd/farmd" "$lib/farmd/createdump" "$lib/farmctl/farmctl" "$lib/farmctl/createdump"
  # What both folders hold byte for byte (the runtime's native libraries) is stored once: farmctl's copy becomes a link.
  # Not libcoreclr.so: the runtime loads System.Private.CoreLib from its own folder, the link's target, and farmd's is a
  # part of farmd's composite image (Farm.Daemon.csproj): farmctl then loaded that image and aborted on the first
  # assembly it holds in another version ("MVID mismatch", Farm.Installer.Tests, 2026-12-05).
  local file shared=0
  for file in "$lib"/farmctl/*; do
    file="$(basename "$file")"
    [[ "$file" == libcoreclr.so ]] && continue
    if [[ -f "$lib/farmd/$file" && ! -L "$lib/farmctl/$file" ]] && cmp -s "$lib/farmd/$file" "$lib/farmctl/$file"; then
      ln -sf "../farmd/$file" "$lib/farmctl/$file"
      shared=$((shared + 1))
    fi
  done
  echo "== $shared files of farmctl linked to farmd's"
  # Both must at least start (a runtime file of the wrong version fails here, not on the nodes).
  if [[ "$(uname -m)" == x86_64 ]]; then
    "$lib/farmd/farmd" --help >/dev/null
    "$lib/farmctl/farmctl" --help >/dev/null
    # A command that loads the gRPC client (and with it the logging abstractions): no farmd answers, exit 1 expected.
    local code=0
    "$lib/farmctl/farmctl" status --socket "$work/no-farmd.sock" >/dev/null 2>&1 || code=$?
    if ((code != 1)); then
      echo "package.sh: farmctl status without a farmd exited with $code, not 1: the program is broken" >&2
      exit 1
    fi
  fi

  install -d -m 0755 "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/etc/default" \
    "$pkg/usr/share/bash-completion/completions" "$doc/examples"
  install -d -m 0700 "$pkg/etc/farm"
  install -d -m 0755 "$pkg/etc/farm/modules"
  ln -s ../lib/farm/farmd/farmd "$pkg/usr/bin/farmd"
  ln -s ../lib/farm/farmctl/farmctl "$pkg/usr/bin/farmctl"
  install -m 0644 "$root/installer/farmd.service" "$pkg/lib/systemd/system/farmd.service"
  install -m 0600 "$root/installer/debian/cluster.yaml.example" "$pkg/etc/farm/cluster.yaml.example"
  install -m 0644 "$root/installer/debian/default" "$pkg/etc/default/farmd"
  install -m 0644 "$root/installer/debian/farmctl.bash-completion" "$pkg/usr/share/bash-completion/completions/farmctl"
  install -m 0644 "$root/README.md" "$root"/docs/*.md "$doc/"
  install -m 0644 "$root/installer/debian/copyright" "$doc/copyright"
  install -d -m 0755 "$pkg/usr/share/lintian/overrides"
  install -m 0644 "$root/installer/debian/lintian-overrides" "$pkg/usr/share/lintian/overrides/farm"
  printf 'farm (%s) unstable; urgency=medium\n\n  * Built from %s.\n\n -- Farm maintainers <farm@example.org>  %s\n' \
    "$version" "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo 'a source tree')" \
    "$(date -R -d "@$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)")" | gzip -9n >"$doc/changelog.gz"
  cp -r "$root/docs/examples/." "$doc/examples/"
  find "$doc/examples" -name ".*" -type f -delete
  find "$pkg/usr" "$pkg/etc" -type d -exec chmod 0755 {} +
  chmod 0700 "$pkg/etc/farm"
  # Documentation 0644; the examples' scripts executable as in the source tree (env.sh is sourced, not run).
  find "$doc" -type f -exec chmod 0644 {} +
  (cd "$root/docs/examples" && find . -type f -perm -u+x -printf '%P\0') | (cd "$doc/examples" && xargs -0 -r chmod 0755)

  install -m 0755 "$root/installer/debian/postinst" "$root/installer/debian/prerm" "$root/installer/debian/postrm" "$pkg/DEBIAN/"
  install -m 0644 "$root/installer/debian/conffiles" "$pkg/DEBIAN/conffiles"

  # Dependencies: the shared libraries the runtime links (the newest glibc symbol version it uses), the ones it and
  # the data plane load at run time (OpenSSL for HMAC/AES, libnftables, libpcap; netbase: libnftables resolves
  # protocol names such as "inet" in /etc/protocols), and the tools farmd runs (setsid comes with essential util-linux).
  local glibc
  glibc="$(find "$lib" -name '*.so' -exec objdump -T {} + 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1)"
  local depends="libc6 (>= ${glibc:-2.27}), libgcc-s1, libstdc++6, libssl3, libnftables1, libpcap0.8, netbase, iproute2, procps"
  local size
  size="$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)"
  sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" "$root/installer/debian/control.in" >"$pkg/DEBIAN/control"
  (cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$pkg/DEBIAN/md5sums"

  local deb="$output/farm_${version}_amd64.deb"
  # gzip: every dpkg and lintian read it; xz took 168 s on 2 busy cores for 13 MB less (zstd: 4 s, but lintian 2.116
  # calls it a malformed archive and dpkg before 1.21.18 cannot read it).
  echo "== dpkg-deb $deb"
  dpkg-deb --root-owner-group -Zgzip --build "$pkg" "$deb" >/dev/null
  echo "$deb ($(du -h "$deb" | cut -f1), installed $((size / 1024)) MiB)"
}

build_farmd() {
  publish_farmd_linux "$output"
  echo "$output ($(du -sh "$output" | cut -f1))"
}

build_windows() {
  local dir="$output/farm-$version-win-x64"
  rm -rf "$dir"
  publish src/Farm.Daemon win-x64 "$dir/farmd"
  publish src/Farm.Cli win-x64 "$dir/farmctl"
  install -m 0644 "$root/installer/windows/farmd-service.ps1" "$dir/"
  echo "$dir ($(du -sh "$dir" | cut -f1))"
}

for target in "${targets[@]}"; do
  "build_$target"
done
