#!/bin/bash
# In a VM of the matrix: the live preflight tests (checks_live_test), then what every Debian
# kernel of the matrix must get from `cnmctl preflight --json`: supported, kprobes available
# (Debian builds them in: the kprobe PMU is checked first), and `ebpf.probe_objects` passing
# for the probe's own BPF objects (the verifier of this kernel accepts them).
# Usage: preflight.sh CHECKS_LIVE_TEST CNMCTL BPF_OBJECT_DIR
set -u
live_test=$1 cnmctl=$2 objects=$3
out=${CNMVM_OUT:-/cnmvm/out}
rc=0
"$live_test" || rc=1
"$cnmctl" preflight --json --bpf-objects "$objects" >"$out/preflight.json"
python3 - "$out/preflight.json" <<'PY' || rc=1
import json, os, sys
report = json.load(open(sys.argv[1]))
checks = {c["id"]: c for c in report["checks"]}
failed = 0
def expect(what, ok, check=None):
    global failed
    print(("PASS: " if ok else "FAIL: ") + what)
    if check: print("  %s: %s: %s" % (check["id"], check["status"], check["message"]))
    failed += not ok
expect("the kernel registers the kprobe PMU",
       os.path.exists("/sys/bus/event_source/devices/kprobe/type"))
expect("verdict supported (%s)" % report["verdict"], report["verdict"] == "supported")
expect("ebpf.kprobes passes", checks["ebpf.kprobes"]["status"] == "pass", checks["ebpf.kprobes"])
expect("ebpf.probe_objects passes", checks["ebpf.probe_objects"]["status"] == "pass",
       checks["ebpf.probe_objects"])
for cid in ("kernel.version", "ebpf.btf", "ebpf.rung", "ebpf.tracepoints", "ebpf.map_types"):
    c = checks[cid]
    print("  %s: %s: %s" % (cid, c["status"], c["message"]))
sys.exit(1 if failed else 0)
PY
exit $rc
