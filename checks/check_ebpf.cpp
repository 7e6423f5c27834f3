// ebpf.syscall, ebpf.program_types, ebpf.map_types, ebpf.helpers: "is eBPF really there",
// asked of the running kernel rather than guessed from its version (backports and
// distribution configs make version numbers lie both ways).
#include <bpf/bpf.h>
#include <linux/capability.h>

#include "checks/bpf_probe.h"
#include "checks/check.h"

namespace cnm {
namespace {

constexpr const char* kLiveOnly = "checked on the live host only (not under --root)";

// Common gate: the live host and a usable bpf(); otherwise the reason to skip.
std::optional<CheckResult> needs_bpf(const HostFacts& f) {
  if (!f.fs.is_live()) return skip(kLiveOnly);
  if (!bpf_access().usable) return skip("bpf() is not usable here, see ebpf.syscall");
  return std::nullopt;
}

bool privileged_for_bpf() { return has_capability(CAP_SYS_ADMIN) || has_capability(CAP_BPF); }

CheckResult ebpf_syscall(const HostFacts& f) {
  if (!f.fs.is_live()) return skip(kLiveOnly);
  const auto& a = bpf_access();
  if (a.usable) return pass("bpf() works: created and freed a map");
  if (a.error == ENOSYS)
    return fail("bpf() does not exist in this kernel (CONFIG_BPF_SYSCALL unset)",
                "boot a kernel built with CONFIG_BPF_SYSCALL=y");
  if ((a.error == EPERM || a.error == EACCES) && !privileged_for_bpf())
    return warn("bpf() refused (" + a.detail +
                    "): this preflight runs without CAP_BPF/CAP_SYS_ADMIN, so eBPF could not "
                    "be probed",
                "run the preflight as root: sudo cnmctl preflight");
  return fail(
      "bpf() refused even with privileges: " + a.detail +
          " (a seccomp filter, an LSM, or kernel.unprivileged_bpf_disabled with "
          "user namespaces)",
      "allow the bpf syscall for the probe: check `sysctl kernel.unprivileged_bpf_disabled`, "
      "the container's seccomp profile (docker: --security-opt seccomp=unconfined) and "
      "audit logs");
}

struct Named {
  int id;
  const char* name;
  bool required;
};

// Runs probe over a list; required misses make the result fail (the probe cannot load),
// optional misses are listed in the message.
template <typename Probe>
CheckResult probe_list(const char* what, const std::vector<Named>& items, Probe probe,
                       const std::string& remedy) {
  std::string have, missing_required, missing_optional;
  for (const auto& it : items) {
    std::string& bucket = probe(it.id) ? have : (it.required ? missing_required : missing_optional);
    bucket += (bucket.empty() ? "" : ", ") + std::string(it.name);
  }
  if (!missing_required.empty())
    return fail(std::string(what) + " the probe needs are missing: " + missing_required, remedy);
  std::string msg = std::string(what) + " available: " + have;
  if (!missing_optional.empty()) msg += "; optional ones missing: " + missing_optional;
  return pass(msg);
}

CheckResult ebpf_program_types(const HostFacts& f) {
  if (auto gate = needs_bpf(f)) return *gate;
  return probe_list("program types",
                    {{BPF_PROG_TYPE_TRACEPOINT, "tracepoint", true},
                     {BPF_PROG_TYPE_RAW_TRACEPOINT, "raw_tracepoint", false},
                     {BPF_PROG_TYPE_KPROBE, "kprobe", false},
                     {BPF_PROG_TYPE_TRACING, "tracing (fentry/fexit)", false},
                     {BPF_PROG_TYPE_SOCKET_FILTER, "socket_filter", false}},
                    bpf_prog_type_supported,
                    "boot a kernel with CONFIG_BPF_EVENTS=y (4.7+ for tracepoint programs)");
}

CheckResult ebpf_map_types(const HostFacts& f) {
  if (auto gate = needs_bpf(f)) return *gate;
  return probe_list("map types",
                    {{BPF_MAP_TYPE_HASH, "hash", true},
                     {BPF_MAP_TYPE_ARRAY, "array", true},
                     {BPF_MAP_TYPE_PERCPU_ARRAY, "percpu_array", true},
                     {BPF_MAP_TYPE_PERF_EVENT_ARRAY, "perf_event_array", true},
                     {BPF_MAP_TYPE_LRU_HASH, "lru_hash", false},
                     {BPF_MAP_TYPE_RINGBUF, "ringbuf", false}},
                    bpf_map_type_supported, "upgrade the kernel (4.4.0 or newer)");
}

CheckResult ebpf_helpers(const HostFacts& f) {
  if (auto gate = needs_bpf(f)) return *gate;
  auto helper = [](int id) { return bpf_helper_supported(BPF_PROG_TYPE_TRACEPOINT, id); };
  auto r = probe_list("helpers (tracepoint programs)",
                      {{BPF_FUNC_map_lookup_elem, "map_lookup_elem", true},
                       {BPF_FUNC_map_update_elem, "map_update_elem", true},
                       {BPF_FUNC_map_delete_elem, "map_delete_elem", true},
                       {BPF_FUNC_ktime_get_ns, "ktime_get_ns", true},
                       {BPF_FUNC_get_current_pid_tgid, "get_current_pid_tgid", true},
                       {BPF_FUNC_get_current_comm, "get_current_comm", true},
                       {BPF_FUNC_perf_event_output, "perf_event_output", true},
                       {BPF_FUNC_probe_read_kernel, "probe_read_kernel", false},
                       {BPF_FUNC_get_current_cgroup_id, "get_current_cgroup_id", false},
                       {BPF_FUNC_ringbuf_output, "ringbuf_output", false},
                       // refresh_open: open connections' live counters (Linux 5.13+)
                       {BPF_FUNC_for_each_map_elem, "for_each_map_elem", false}},
                      helper, "upgrade the kernel (4.4.0 or newer)");
  if (r.status == Status::Pass && !helper(BPF_FUNC_get_current_cgroup_id))
    r.message += " (container tagging by cgroup id needs get_current_cgroup_id, 4.18+)";
  return r;
}

}  // namespace

void add_ebpf_checks(std::vector<CheckDef>& out) {
  out.push_back({"ebpf.syscall", ebpf_syscall});
  out.push_back({"ebpf.program_types", ebpf_program_types});
  out.push_back({"ebpf.map_types", ebpf_map_types});
  out.push_back({"ebpf.helpers", ebpf_helpers});
}

}  // namespace cnm
