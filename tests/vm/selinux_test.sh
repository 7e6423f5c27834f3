#!/usr/bin/env bash
# The SELinux VM test (ctest vm_6.1_selinux): packs the cnmkit Debian package from BUILD_DIR
# with cpack and runs guest/selinux.sh in a 6.1 VM booted with systemd, SELinux enforcing.
# With --permissive it gathers every denial instead (see guest/selinux.sh); with --policy FILE
# it installs that policy source instead of the packaged module (to try a rule, or to see the
# test fail without one): the guest puts it back after `cnmctl install`, whose own SELinux step
# installs the packaged module, and restarts the probe under it.
# Usage: selinux_test.sh BUILD_DIR [--permissive] [--policy FILE.te] [vm-run options...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(realpath "${1:?usage: selinux_test.sh BUILD_DIR [--permissive]}")
shift
mode=--selinux policy=
while [ $# -gt 0 ]; do
  case "$1" in
    --permissive) mode=--permissive; shift ;;
    --policy) policy=$(realpath "$2"); shift 2 ;;
    *) break ;;
  esac
done
pkg=$(mktemp -d)
trap 'rm -rf "$pkg"' EXIT
ins=()
if [ -n "$policy" ]; then
  mkdir "$pkg/te"
  cp "$policy" "$pkg/te/$(basename "$policy" .te).te"
  ins=(--in "$pkg/te/$(basename "$policy" .te).te")
fi
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$pkg" >"$pkg/cpack.log" 2>&1 ||
  { cat "$pkg/cpack.log" >&2; exit 1; }
deb=$(ls "$pkg"/*.deb)
# Not exec: the EXIT trap must still remove the package folder (each run left ~44 MB in /tmp).
"$here/vm-run" --kernel 6.1 --systemd "$mode" --in "$deb" "${ins[@]}" "$@" -- bash "$here/guest/selinux.sh"
