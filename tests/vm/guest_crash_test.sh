#!/usr/bin/env bash
# guest_crash.sh on canned consoles: which guest deaths vm-run retries (the emulator's stall, and
# a panic whose printed stack is symbolised and names no BPF; neither after the VM's timeout),
# why it says it retries, and what it repeats at the end of its output.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/guest_crash.sh"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
expect() {  # expect retried|failed NAME [QEMU_RC [REASON]]: the console in $dir/NAME
  local got=failed why
  why=$(retry_reason "$dir/$2" "${3:-1}") && got=retried
  if [ "$got" = "$1" ]; then echo "ok: $2 $1"; else echo "FAILED: $2 $got, expected $1"; fail=1; fi
  if [ -n "${4:-}" ] && ! grep -q "$4" <<<"$why"; then echo "FAILED: $2's reason '$why'"; fail=1; fi
}
head_lines='[  210.9] BUG: kernel NULL pointer dereference, address: 0000000000000000
[  210.9] Oops: Oops: 0000 [#1] PREEMPT SMP NOPTI
[  210.9] CPU: 1 UID: 0 PID: 0 Comm: swapper/1 Not tainted 6.12.118+deb13-amd64
[  210.9] RIP: 0010:timerqueue_del+0x12/0x30
[  210.9] RSP: 0018:ff4ce978c0003db8 EFLAGS: 00000046'
panic='[  210.9] Kernel panic - not syncing: Fatal exception in interrupt'
frames() { for f in "$@"; do echo "[  210.9]  $f"; done; }
{
  echo "[    1.0] booting"; echo "$head_lines"; echo "[  210.9] Call Trace:"
  frames '<IRQ>' '? __die+0x20/0x70' '__hrtimer_run_queues+0x12/0x2a0' 'hrtimer_interrupt+0xf8/0x230' '</IRQ>'
  echo "[  210.9] ---[ end trace 0000000000000000 ]---"; echo "$panic"
} >"$dir/timer"
expect retried timer 1 'crashed with no BPF code on its stack'
expect failed timer 124  # the same crash, but the VM ran to its timeout
sed 's/hrtimer_interrupt+0xf8/bpf_prog_6deef7357e7b4530_set_state_btf+0x44/' "$dir/timer" >"$dir/bpf_program"
expect failed bpf_program
sed 's/hrtimer_interrupt+0xf8/bpf_trace_run3+0x88/' "$dir/timer" >"$dir/bpf_tracepoint"
expect failed bpf_tracepoint
sed 's/hrtimer_interrupt+0xf8\/0x230/0xffffffffc0a01234/' "$dir/timer" >"$dir/unnamed_frame"
expect failed unnamed_frame
grep -v 'Call Trace\|^\[  210.9\]  ' "$dir/timer" >"$dir/no_stack"  # the RIP line kept
expect failed no_stack
grep -v 'Kernel panic' "$dir/timer" >"$dir/no_panic"
expect failed no_panic
# A warning whose stack names BPF, then a panic elsewhere: not retried (the whole crash counts).
{ echo "[  100.0] WARNING: CPU: 0 PID: 7 at kernel/bpf/core.c:1 x+0x1/0x2"; echo "[  100.0] Call Trace:"
  frames 'bpf_prog_run+0x1/0x2'; cat "$dir/timer"; } >"$dir/bpf_earlier"
expect failed bpf_earlier

# The emulator's stall (6.1 under TCG): a soft lockup waiting on the other vCPU's IPI while RCU
# reports that vCPU's timers stopped; retried though its stack names BPF (a link's detach).
{ echo "[  300.0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [probe_root_test:412]"
  echo "[  300.0] RIP: 0010:smp_call_function_many_cond+0x120/0x500"; echo "[  300.0] Call Trace:"
  frames 'on_each_cpu_cond_mask+0x24/0x40' 'text_poke_bp_batch+0x9f/0x2a0' \
    'tracepoint_probe_unregister+0x1a0/0x3d0' 'bpf_link_release+0x1d/0x30'
  echo "[  300.0] rcu: rcu_preempt kthread timer wakeup didn't happen for 2507 jiffies! g1234"
  echo "[  300.0] Kernel panic - not syncing: softlockup: hung tasks"; } >"$dir/stall"
expect retried stall 1 'emulator stalled a vCPU'
expect failed stall 124
expect failed stall 137  # timeout's SIGKILL
# Each of the stall's three signs is needed: without one it is the guest's own (its stack names
# BPF, so the crash rule does not take it either).
grep -v 'timer wakeup' "$dir/stall" >"$dir/lockup_timers_fine"
expect failed lockup_timers_fine
grep -v 'soft lockup' "$dir/stall" >"$dir/stall_no_lockup"
expect failed stall_no_lockup
sed 's/smp_call_function_many_cond/do_idle/' "$dir/stall" >"$dir/lockup_not_waiting_on_ipi"
expect failed lockup_not_waiting_on_ipi

summary=$(crash_summary "$dir/timer")
for want in 'vm-run: guest: .*BUG: kernel NULL pointer' 'vm-run: guest: .*RIP: 0010:timerqueue_del' \
  'vm-run: guest: .*hrtimer_interrupt\+0xf8' 'vm-run: guest: .*Kernel panic'; do
  grep -qE "$want" <<<"$summary" || { echo "FAILED: summary lacks /$want/"; fail=1; }
done
grep -q 'booting\|RSP:' <<<"$summary" && { echo "FAILED: summary holds lines that are no crash"; fail=1; }
[ "$fail" -eq 0 ] || { echo "--- summary:"; echo "$summary"; }
exit "$fail"
