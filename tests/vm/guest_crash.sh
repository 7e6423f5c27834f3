# shellcheck shell=bash
# What a guest's console says of a kernel that died (sourced by vm-run; tested on canned consoles
# by guest_crash_test.sh). LOG is the console's file.

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
