// ebpf.btf, ebpf.tracepoints, ebpf.kprobes, ebpf.fentry: the attach points the probe uses
// exist on this kernel. The probe prefers tracepoints and falls back to kprobes, so a host
// needs one of the two; BTF (or headers) decides whether CO-RE objects can be relocated.
#include <bpf/bpf.h>

#include "checks/bpf_probe.h"
#include "checks/check.h"
#include "checks/tracepoints.h"

namespace cnm {
namespace {

struct Tracepoint {
  const char* category;
  const char* name;
  const char* use;
  bool optional;  // only for a setting that is off by default: its absence costs nothing
};

// What the probe attaches to (probe/README.md); the first is the one it cannot do without.
const Tracepoint kTracepoints[] = {
    {"sock", "inet_sock_set_state", "connection open/close", false},
    {"tcp", "tcp_retransmit_skb", "retransmits", false},
    {"tcp", "tcp_probe", "RTT", false},
    {"tcp", "tcp_receive_reset", "TCP resets received", false},
    {"tcp", "tcp_send_reset", "TCP resets sent", false},
    // Linux 6.4+; the probe counts bytes from tcp_sock without them.
    {"sock", "sock_send_length", "network_config.per_call_hooks", true},
    {"sock", "sock_recv_length", "network_config.per_call_hooks", true},
};

std::optional<bool> kprobes_available(const HostFacts& f) {
  if (!f.fs.describes("/sys/bus")) return std::nullopt;
  // The kprobe PMU is registered only when CONFIG_KPROBES is set.
  return f.fs.exists("/sys/bus/event_source/devices/kprobe/type");
}

std::string kernel_rel(const HostFacts& f) {
  return f.kernel_release.empty() ? "$(uname -r)" : f.kernel_release;
}

CheckResult ebpf_btf(const HostFacts& f) {
  if (!f.fs.describes("/sys/kernel")) return skip("this root does not describe /sys/kernel");
  if (f.fs.exists("/sys/kernel/btf/vmlinux"))
    return pass("kernel BTF at /sys/kernel/btf/vmlinux: CO-RE objects relocate on this kernel");
  const std::string rel = kernel_rel(f);
  for (const std::string& dir :
       {"/lib/modules/" + rel + "/build/include", "/usr/src/kernels/" + rel + "/include",
        "/usr/src/linux-headers-" + rel + "/include"}) {
    if (f.fs.is_dir(dir)) {
      return warn("no kernel BTF (/sys/kernel/btf/vmlinux); kernel headers found at " + dir +
                      ": only runtime-compiled or prebuilt objects can run, not CO-RE",
                  "use a kernel built with CONFIG_DEBUG_INFO_BTF=y, or ship a BTF file for " + rel +
                      " (BTFHub) with the probe");
    }
  }
  return warn(
      "no kernel BTF and no kernel headers for " + rel + ": CO-RE objects cannot be relocated",
      "install headers (apt-get install linux-headers-" + rel + " / yum install kernel-devel-" +
          rel + ") or use a kernel with CONFIG_DEBUG_INFO_BTF=y");
}

CheckResult ebpf_tracepoints(const HostFacts& f) {
  if (!f.fs.describes("/sys/kernel")) return skip("this root does not describe /sys/kernel");
  const TracepointIndex index(f.fs);
  if (index.source().empty()) {
    return warn("cannot list tracepoints: tracefs is not mounted and there is no kernel BTF",
                "mount -t tracefs nodev /sys/kernel/tracing");
  }
  std::string present, absent, optional_absent;
  bool core_present = false;
  for (const auto& tp : kTracepoints) {
    const bool ok = index.has(tp.category, tp.name).value_or(false);
    std::string& list = ok ? present : tp.optional ? optional_absent : absent;
    list += (list.empty() ? "" : ", ") + std::string(tp.category) + "/" + tp.name;
    if (!ok) list += std::string(" (") + tp.use + ")";
    if (&tp == &kTracepoints[0]) core_present = ok;
  }
  const std::string from = " [" + index.source() + "]";
  const std::string optional_note =
      optional_absent.empty() ? "" : "; optional, not on this kernel: " + optional_absent;
  if (core_present) {
    if (absent.empty())
      return pass("the probe's tracepoints are present: " + present + optional_note + from);
    return warn("tracepoints present: " + present + "; missing: " + absent + optional_note + from,
                "a newer kernel provides the missing tracepoints; until then those metrics "
                "come from kprobes where available, or are not collected");
  }
  const auto kprobes = kprobes_available(f);
  if (kprobes.value_or(false))
    return warn(
        "sock/inet_sock_set_state is missing (kernel < 4.16): the probe uses kprobes "
        "instead" +
            from,
        "upgrade to a 4.16+ kernel to use tracepoints");
  const auto r =
      "neither sock/inet_sock_set_state nor kprobes are available: the probe has "
      "nothing to attach to" +
      from;
  const auto remedy = "boot a kernel with CONFIG_KPROBES=y or 4.16+ tracepoints";
  return f.fs.is_live() ? fail(r, remedy) : warn(r, remedy);
}

CheckResult ebpf_kprobes(const HostFacts& f) {
  const auto k = kprobes_available(f);
  if (!k) return skip("this root does not describe /sys/bus");
  if (*k) return pass("kprobes available (kprobe PMU registered)");
  return warn(
      "kprobes are not available (no kprobe PMU: CONFIG_KPROBES unset); kprobe hooks "
      "are off, the probe relies on tracepoints",
      "nothing to do if ebpf.tracepoints passes; for kprobe fallbacks boot a kernel "
      "with CONFIG_KPROBES=y");
}

CheckResult ebpf_fentry(const HostFacts& f) {
  if (!f.fs.is_live()) return skip("checked on the live host only (not under --root)");
  if (!bpf_access().usable) return skip("bpf() is not usable here, see ebpf.syscall");
  if (bpf_prog_type_supported(BPF_PROG_TYPE_TRACING))
    return pass("fentry/fexit (tracing programs) load on this kernel");
  return warn(
      "fentry/fexit (BPF_PROG_TYPE_TRACING) programs are refused by this kernel; "
      "the probe uses tracepoints and kprobes instead",
      "nothing to do if ebpf.tracepoints passes; fentry needs 5.5+ with BTF and "
      "CONFIG_DEBUG_INFO_BTF=y");
}

}  // namespace

void add_attach_checks(std::vector<CheckDef>& out) {
  out.push_back({"ebpf.btf", ebpf_btf});
  out.push_back({"ebpf.tracepoints", ebpf_tracepoints});
  out.push_back({"ebpf.kprobes", ebpf_kprobes});
  out.push_back({"ebpf.fentry", ebpf_fentry});
}

}  // namespace cnm
