#!/usr/bin/env bash
# Prints the path of a minimal Debian 11 (bullseye, glibc 2.31) root, building it with
# debootstrap from the configured mirror when the cache is empty (about a minute, ~230 MB).
# Tests run programs built on Debian 12 in it to prove they need nothing newer than bullseye's
# C library, and the Ansible fleet test uses it as a managed host (python3 for Ansible's
# modules, python3-apt for its apt module). Cached under /var/cache/cnmkit/ keyed by the
# suffix below; built in a temp folder and renamed under a lock, so a killed build never
# leaves a half root behind and concurrent callers wait for one build.
# Usage: make_bullseye_root.sh
set -euo pipefail
cache=${CNMKIT_CACHE:-/var/cache/cnmkit}
# Bump the suffix when the package list changes so stale roots are not reused.
root="$cache/bullseye-root-v1"
mkdir -p "$cache"
exec 9>"$cache/bullseye-root.lock"
flock 9
if [ ! -x "$root/usr/bin/python3" ]; then
  tmp=$(mktemp -d "$cache/bullseye-build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  debootstrap --variant=minbase --include=python3,python3-apt bullseye "$tmp/root" \
    "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$tmp/debootstrap.log" 2>&1 ||
    { tail -20 "$tmp/debootstrap.log" >&2; exit 1; }
  # Downloaded packages are not part of the root: 40 MB less in every overlay and copy.
  rm -f "$tmp/root/var/cache/apt/archives/"*.deb
  mv "$tmp/root" "$root"
fi
echo "$root"
