// ebpf.syscall, ebpf.program_types, ebpf.map_types, ebpf.helpers: "is eBPF really there", asked
// of the running kernel rather than guessed from its version (backports and distribution
// configs make version numbers lie both ways). What is asked is what the probe's ladder needs
// (probe/ladder.h), rung by rung: these checks list no requirement of their own.
#include <linux/capability.h>

#include "checks/bpf_probe.h"
#include "checks/check.h"
#include "checks/kernel_config.h"
#include "checks/ladder_facts.h"

namespace cnm {
namespace {

bool privileged_for_bpf() { return has_capability(CAP_SYS_ADMIN) || has_capability(CAP_BPF); }

CheckResult ebpf_syscall(const HostFacts& f) {
  if (!f.fs.is_live()) {
    // Under --root bpf() cannot be asked, but the kernel's own config can prove it absent.
    if (const auto& config = f.kernel_config;
        config && config_unsets(config->text, "CONFIG_BPF_SYSCALL"))
      return fail("the kernel's config (" + config->source +
                      ") has CONFIG_BPF_SYSCALL unset: bpf() does not exist in this kernel",
                  "boot a kernel built with CONFIG_BPF_SYSCALL=y");
    return skip("checked on the live host only (not under --root)");
  }
  const auto& a = bpf_access();
  if (a.error == ENOSYS)
    return fail("bpf() does not exist in this kernel (CONFIG_BPF_SYSCALL unset)",
                "boot a kernel built with CONFIG_BPF_SYSCALL=y");
  // Without privileges the ladder's probes and the verifier's dry run (ebpf.rung,
  // ebpf.probe_objects) cannot run: a verdict here would claim support nobody checked, so the
  // host is not passed (a warning would leave it "supported", exit 0, rolled out by the fleet
  // report). Even where unprivileged bpf() works (kernel.unprivileged_bpf_disabled=0).
  if (!privileged_for_bpf())
    return fail((a.usable ? std::string("bpf() works unprivileged, but")
                          : "bpf() refused (" + a.detail + "), and") +
                    " this preflight runs without CAP_BPF/CAP_SYS_ADMIN: it cannot load the "
                    "probe's programs, so it cannot tell whether the probe runs here",
                "run the preflight as root: sudo cnmctl preflight");
  if (a.usable) return pass("bpf() works: created and freed a map");
  return fail(
      "bpf() refused even with privileges: " + a.detail +
          " (a seccomp filter, an LSM, or kernel.unprivileged_bpf_disabled with "
          "user namespaces)",
      "allow the bpf syscall for the probe: check `sysctl kernel.unprivileged_bpf_disabled`, "
      "the container's seccomp profile (docker: --security-opt seccomp=unconfined) and "
      "audit logs");
}

// One kind of kernel feature the ladder asks for: what the host has and lacks, and what its
// absence costs (never a failure here: ebpf.rung says whether the probe can run at all).
CheckResult feature_kind(const HostFacts& f, probe::NeedKind kind, const std::string& what,
                         const std::string& note, const std::string& remedy) {
  const auto& lf = ladder_facts(f);
  if (!lf.live) return skip(lf.not_live);
  std::vector<NeedRow> have, missing, unasked;
  for (auto& row : need_rows(lf, kind))
    (row.asked ? (row.answer == probe::Answer::kNo ? missing : have) : unasked).push_back(row);
  std::string msg;
  if (kind == probe::NeedKind::kHelper)  // dozens: counted, the missing ones named
    msg = std::to_string(have.size()) + " " + what + " the probe's rungs call are available";
  else
    msg = what + " the probe's rungs use, available: " + (have.empty() ? "none" : rows_text(have));
  if (!missing.empty()) msg += "; missing: " + rows_text(missing);
  if (!unasked.empty() && kind == probe::NeedKind::kHelper)
    msg +=
        "; " + std::to_string(unasked.size()) + " more not asked (a rung before theirs runs here)";
  else if (!unasked.empty())
    msg += "; not asked (a rung before theirs runs here): " + rows_text(unasked);
  msg += note;
  if (kind_costs(lf, kind)) return warn(msg, remedy);
  return pass(msg);
}

CheckResult ebpf_program_types(const HostFacts& f) {
  return feature_kind(
      f, probe::NeedKind::kProgramType, "program types",
      "; tracing programs (tp_btf, the TCP iterator) are tried by loading them "
      "(ebpf.probe_objects)",
      "a kernel with the missing program types runs a better rung (ebpf.rung says which runs "
      "here and what it costs)");
}

CheckResult ebpf_map_types(const HostFacts& f) {
  return feature_kind(f, probe::NeedKind::kMapType, "map types", "",
                      "a kernel with the BPF ring buffer (Linux 5.8) runs a better rung "
                      "(ebpf.rung says which runs here and what it costs)");
}

CheckResult ebpf_helpers(const HostFacts& f) {
  return feature_kind(
      f, probe::NeedKind::kHelper, "helpers",
      "; helpers of tracing programs are tried by loading them (ebpf.probe_objects)",
      "a newer kernel has the missing helpers (ebpf.rung says what their absence "
      "costs here)");
}

}  // namespace

void add_ebpf_checks(std::vector<CheckDef>& out) {
  out.push_back({"ebpf.syscall", ebpf_syscall});
  out.push_back({"ebpf.program_types", ebpf_program_types});
  out.push_back({"ebpf.map_types", ebpf_map_types});
  out.push_back({"ebpf.helpers", ebpf_helpers});
}

}  // namespace cnm
