#!/usr/bin/env bash
# The SELinux VM test (ctest vm_6.1_selinux): packs the cnmkit Debian package from BUILD_DIR
# with cpack and runs guest/selinux.sh in a 6.1 VM booted with systemd, SELinux enforcing.
# With --permissive it gathers every denial instead (see guest/selinux.sh).
# Usage: selinux_test.sh BUILD_DIR [--permissive] [vm-run options...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(realpath "${1:?usage: selinux_test.sh BUILD_DIR [--permissive]}")
shift
mode=--selinux
if [ "${1:-}" = --permissive ]; then mode=--permissive; shift; fi
pkg=$(mktemp -d)
trap 'rm -rf "$pkg"' EXIT
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$pkg" >"$pkg/cpack.log" 2>&1 ||
  { cat "$pkg/cpack.log" >&2; exit 1; }
deb=$(ls "$pkg"/*.deb)
exec "$here/vm-run" --kernel 6.1 --systemd "$mode" --in "$deb" "$@" -- bash "$here/guest/selinux.sh"
