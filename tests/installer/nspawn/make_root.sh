#!/usr/bin/env bash
# Prints the path of a minimal Debian 12 root with systemd and dbus (and curl for the tests'
# own requests), and none of cnmkit's libraries: its binaries are static, and installing the
# package here proves they need nothing else. Built with debootstrap when the cache is empty
# (a few minutes, about 300 MB, needs the Debian mirror). Cached under /var/cache/cnmkit/ so CI machines that
# ran before skip the download; built in a temp folder and renamed, so a killed build never
# leaves a half root behind. Usage: make_root.sh
set -euo pipefail
cache=${CNMKIT_CACHE:-/var/cache/cnmkit}
# Bump the suffix when the package list changes so stale roots are not reused.
root="$cache/nspawn-bookworm-v2"
mkdir -p "$cache"
exec 9>"$cache/nspawn-root.lock"
flock 9
if [ ! -x "$root/usr/lib/systemd/systemd" ]; then
  tmp=$(mktemp -d "$cache/nspawn-build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  pkgs=systemd,systemd-sysv,dbus,curl
  debootstrap --variant=minbase --include="$pkgs" bookworm "$tmp/root" \
    "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$tmp/debootstrap.log" 2>&1 ||
    { tail -20 "$tmp/debootstrap.log" >&2; exit 1; }
  # No console login, no network setup: the test's oneshot unit drives the boot.
  rm -f "$tmp/root/etc/machine-id"
  : >"$tmp/root/etc/machine-id"
  mv "$tmp/root" "$root"
fi
echo "$root"
