#!/bin/bash
# Runs the test command of one VM (out/cmd.sh, written by vm-run) inside the guest and records
# its exit status in out/rc, its output in out/output.log (and on the console), then powers
# off. As PID 1 (script mode) it first mounts what a booted host has: proc, sys, bpffs,
# tracefs, debugfs, securityfs, cgroup2, tmpfs on /run and /tmp. Under systemd
# (cnmvm-run.service) all that is done already.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
out=/cnmvm/out
# A tmpfs on DIR that keeps a share mounted below it visible (a tree checked out under /tmp,
# shared at its own path): the share is moved aside, then back onto the new tmpfs.
fresh_tmpfs() {  # DIR
  local dir=$1 held=/cnmvm/held src_at=''
  while read -r _ at _; do
    case $at in "$dir"/*) src_at=$at ;; esac
  done </proc/mounts
  if [ -n "$src_at" ]; then mkdir -p "$held" && mount --move "$src_at" "$held"; fi
  mount -t tmpfs tmpfs "$dir"
  if [ -n "$src_at" ]; then mkdir -p "$src_at" && mount --move "$held" "$src_at"; fi
}
if [ $$ -eq 1 ]; then
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mkdir -p /dev/pts /dev/shm
  mount -t devpts devpts /dev/pts
  mount -t tmpfs tmpfs /dev/shm
  fresh_tmpfs /run
  fresh_tmpfs /tmp
  mount -t securityfs securityfs /sys/kernel/security
  mount -t debugfs debugfs /sys/kernel/debug
  mount -t tracefs tracefs /sys/kernel/tracing
  mount -t bpf bpf /sys/fs/bpf
  mount -t cgroup2 cgroup2 /sys/fs/cgroup
  ip link set lo up
  hostname cnmvm
  # The open-file limits systemd gives every process (the kernel's own hard limit is 4096).
  ulimit -Hn 524288
  ulimit -Sn 1024
fi
# The kernel sizes its TIME_WAIT table from memory: 8192 buckets in this 2-GB VM. The probe's
# tests open over 10000 connections a minute (ProbeLimits alone 5000), and past the table a
# client closed in FIN_WAIT2 is dropped without TIME_WAIT, so it answers the server's FIN with
# a reset the ground-truth tests do not expect (seen on 6.1: TCPTimeWaitOverflow 3221). A host
# like the one CI runs on has 131072.
echo 262144 >/proc/sys/net/ipv4/tcp_max_tw_buckets
cd "$out" || exit 1
echo "cnmvm: kernel $(uname -r), running out/cmd.sh" >/dev/console
set -o pipefail
bash "$out/cmd.sh" 2>&1 | tee "$out/output.log" >/dev/console
echo $? >"$out/rc.tmp"
mv "$out/rc.tmp" "$out/rc"
sync
if [ $$ -eq 1 ]; then
  echo o >/proc/sysrq-trigger
  sleep 30
else
  systemctl poweroff --no-block
fi
