#!/bin/bash
# Runs the test command of one VM (out/cmd.sh, written by vm-run) inside the guest and records
# its exit status in out/rc, its output in out/output.log (and on the console), then powers
# off. As PID 1 (script mode) it first mounts what a booted host has: proc, sys, bpffs,
# tracefs, debugfs, securityfs, cgroup2, tmpfs on /run and /tmp. Under systemd
# (cnmvm-run.service) all that is done already.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
out=/cnmvm/out
if [ $$ -eq 1 ]; then
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mkdir -p /dev/pts /dev/shm
  mount -t devpts devpts /dev/pts
  mount -t tmpfs tmpfs /dev/shm
  mount -t tmpfs tmpfs /run
  mount -t tmpfs tmpfs /tmp
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
