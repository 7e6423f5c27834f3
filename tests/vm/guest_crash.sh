# shellcheck shell=bash
# What a guest's console says of a kernel that died (sourced by vm-run; tested on canned consoles
# by guest_crash_test.sh). LOG is the console's file. vm-run asks one question, retry_reason.

# crash_block LOG: the console from the first line that reports a crash, a warning or a panic.
crash_block() {
  awk '/BUG:|Oops:|general protection fault|invalid opcode|kernel BUG at|WARNING: CPU:|Kernel panic/ { on = 1 } on' "$1"
}

# crash_summary LOG: the crash's headlines and the frames of its stacks, for the end of a CI log
# (which keeps only the head and the tail of a long output, and the stack sits in the middle).
crash_summary() {
  crash_block "$1" | awk '
    /BUG:|Oops:|general protection fault|invalid opcode|kernel BUG at|WARNING: CPU:|RIP: 00|Kernel panic/ {
      if (++n <= 12) print
      next
    }
    /Call Trace:/ { t = 1; next }
    t && /^\[ *[0-9.]+\] +(\? )?[^ ]+\+0x/ { if (++k <= 24) print; next }
    t && /end trace/ { t = 0 }' | sed 's/^/vm-run: guest: /'
}

# crash_without_bpf LOG: true when the kernel panicked with a symbolised stack printed and nothing
# from the crash on names BPF (a program, a helper, a trampoline) or shows an unnamed frame (a
# JIT-compiled program without kallsyms): the kernel's or the emulator's doing, not the probe's.
crash_without_bpf() {
  local block
  block=$(crash_block "$1")
  grep -q 'Kernel panic' <<<"$block" || return 1
  grep -q 'Call Trace:' <<<"$block" || return 1
  grep -qE '^\[ *[0-9.]+\] +(\? )?[A-Za-z_.][^ ]*\+0x' <<<"$block" || return 1
  ! grep -qiE 'bpf|^\[ *[0-9.]+\] +(\? )?0x[0-9a-f]+' <<<"$block"
}

# emulator_stall LOG: true for the emulator's stall, not the guest's: a soft lockup whose stuck CPU
# waits in smp_call_function_many_cond for the other vCPU to take its IPI, while RCU says that
# vCPU's timers have not run for thousands of jiffies (TCG, 2 vCPUs on a busy 2-core host: seen
# twice in 6.1's probe run, in text_poke_bp as a trace event was switched off). Its stack may
# name BPF (a link's detach patches the tracepoint's call site), so it is judged by the wait.
emulator_stall() {
  grep -q 'soft lockup' "$1" && grep -q 'smp_call_function_many_cond' "$1" &&
    grep -q 'timer wakeup didn.t happen\|Possible timer handling issue' "$1"
}

# timed_out QEMU_RC: true when timeout killed the VM (124, or 137 when it had to send SIGKILL).
timed_out() {
  [ "$1" -eq 124 ] || [ "$1" -eq 137 ]
}

# retry_reason LOG QEMU_RC: for a guest that stopped without its command's exit status, prints
# why the death was the emulator's or the guest kernel's, not the probe's, and succeeds: the run
# may be repeated once. Fails, printing nothing, for any other death, and for a VM that timed
# out: a panic, softlockup_panic's included, stops the VM at once, so a VM that ran out its time
# is hung, not crashed.
retry_reason() {
  ! timed_out "$2" || return 1
  if emulator_stall "$1"; then
    echo "the emulator stalled a vCPU (soft lockup waiting on its IPI)"
  elif crash_without_bpf "$1"; then
    echo "the guest kernel crashed with no BPF code on its stack"
  else
    return 1
  fi
}
