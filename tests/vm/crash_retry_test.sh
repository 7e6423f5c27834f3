#!/usr/bin/env bash
# vm-run's handling of a guest kernel that dies (tests/vm/README.md): a crash with no BPF code on
# its stack, made here by the kernel's own sysrq crash, is retried once, saying so; the retry
# dies too, so the run fails with 125, and the oops and its stack are repeated last.
# Usage: crash_retry_test.sh KERNEL
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernel=${1:?usage: $0 KERNEL}
log=$(mktemp)
trap 'rm -f "$log" "$log.tail"' EXIT
"$here/vm-run" --kernel "$kernel" --timeout 300 -- sh -c 'echo c > /proc/sysrq-trigger' >"$log" 2>&1
rc=$?
fail=0
check() {  # check DESCRIPTION COMMAND...
  if "${@:2}"; then echo "ok: $1"; else echo "FAILED: $1"; fail=1; fi
}
check "exit 125 (no exit status), got $rc" test "$rc" -eq 125
check "retried once" test "$(grep -c 'crashed with no BPF code on its stack (above): retrying once' "$log")" -eq 1
check "two boots" test "$(grep -c '^cnmvm: kernel' "$log")" -eq 2
tail -n 30 "$log" >"$log.tail"
check "the stack repeated last" grep -q '^vm-run: guest: .*sysrq_handle_crash+0x' "$log.tail"
check "the panic repeated last" grep -q '^vm-run: guest: .*Kernel panic' "$log.tail"
check "the last line is the wall time" sh -c "tail -n 1 '$log' | grep -q '^vm-run: kernel $kernel: wall .* exit 125$'"
[ "$fail" -eq 0 ] || { echo "--- vm-run's output:"; cat "$log"; }
exit "$fail"
