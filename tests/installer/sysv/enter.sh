#!/usr/bin/env bash
# Host side of the SysV test, run by sysv_test.cpp as
#   unshare --mount --pid --fork --kill-child --propagation private enter.sh ROOT RESULTS [PROGRAM]
# so it is PID 1 of a fresh PID namespace (every process started below dies with it, and it
# reaps the daemons the init scripts orphan, as init does) and its mounts vanish with it.
# Gives the overlay ROOT what a booted host has (proc, sys, dev; /run a fresh tmpfs, so no
# /run/systemd/system), then runs PROGRAM (default: inside.sh, installed by the test as
# /usr/local/sbin/cnmkit-sysv-test) chrooted there. The older-userland test enters a Debian 11
# root the same way (tests/packaging/older_userland_test.cpp).
set -euo pipefail
root=$1 results=$2 program=${3:-/usr/local/sbin/cnmkit-sysv-test}
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mkdir -p "$root/results"
mount --bind "$results" "$root/results"
# Not exec: PID 1 must stay to reap the orphaned daemons while inside.sh runs.
rc=0
chroot "$root" "$program" || rc=$?
echo "$rc" >"$results/inside.rc"
exit "$rc"
