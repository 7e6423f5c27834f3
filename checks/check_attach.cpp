// ebpf.btf, ebpf.tracepoints, ebpf.kprobes: where the probe's reads get the kernel's types, and
// the attach points of its ladder (probe/ladder.h): its tracepoints and, for kernels without
// them, kprobes. Answered from the host's files, so a folder describing a host (--root) is
// judged too.
#include "checks/check.h"
#include "checks/ladder_facts.h"
#include "checks/tracepoints.h"

namespace cnm {
namespace {

std::optional<bool> answered(const LadderFacts& lf, probe::NeedKind kind,
                             std::string_view name = "") {
  const auto a = lf.answers.find(probe::need_key({kind, 0, 0, name}));
  if (a == lf.answers.end() || a->second == probe::Answer::kUnknown) return std::nullopt;
  return a->second == probe::Answer::kYes;
}

std::string kernel_rel(const HostFacts& f) {
  return f.kernel_release.empty() ? "$(uname -r)" : f.kernel_release;
}

CheckResult ebpf_btf(const HostFacts& f) {
  if (!f.fs.describes("/sys/kernel")) return skip("this root does not describe /sys/kernel");
  const auto& lf = ladder_facts(f);
  const std::string rel = kernel_rel(f);
  if (answered(lf, probe::NeedKind::kKernelBtf).value_or(false))
    return pass("kernel BTF at /sys/kernel/btf/vmlinux: every rung's CO-RE reads relocate");
  const std::string add =
      "install a BTF archive holding " + rel +
      " (probe/btf/make_btf_archive.sh from BTFHub's archive, then `cnmctl install "
      "--btf-archive FILE`), or add a BTF file for it as <bpf_object_dir>/btf/" +
      rel +
      ".btf (made with `bpftool gen min_core_btf`, probe/README.md \"Kernels without BTF\") or "
      "set system_probe_config.btf_path; or boot a kernel built with CONFIG_DEBUG_INFO_BTF=y";
  if (lf.agents_own_btf)
    return pass("no BTF for kernel " + rel + " (" + lf.btf + "): " + kAgentsOwnObjects);
  if (lf.no_btf)
    return warn("no BTF for kernel " + rel + ": " + lf.btf +
                    ": the probe cannot relocate its programs, no rung runs",
                add);
  return warn("no kernel BTF (/sys/kernel/btf/vmlinux); CO-RE relocates with " + lf.btf +
                  ": the rungs that need the kernel's own BTF (tp_btf, the TCP iterator) are out",
              "boot a kernel built with CONFIG_DEBUG_INFO_BTF=y for the best rung");
}

CheckResult ebpf_tracepoints(const HostFacts& f) {
  if (!f.fs.describes("/sys/kernel")) return skip("this root does not describe /sys/kernel");
  const TracepointIndex index(f.fs);
  if (index.source().empty())
    return warn("cannot list tracepoints: tracing is not mounted and there is no kernel BTF",
                tracing_mount_remedy(f));
  const auto& lf = ladder_facts(f);
  std::string present, absent, opt_in_absent;
  bool core = false;
  for (const auto& row : need_rows(lf, probe::NeedKind::kTracepoint)) {
    const bool ok = row.answer == probe::Answer::kYes;
    bool opt_in = true, core_one = false;
    for (const auto& r : probe::ladder())
      for (const auto& h : r.hooks)
        if (h.target == row.need.name) {
          opt_in = opt_in && h.opt_in;
          core_one = core_one || h.role == probe::Role::kState;
        }
    if (core_one) core = ok;
    std::string& list = ok ? present : opt_in ? opt_in_absent : absent;
    list += (list.empty() ? "" : ", ") + std::string(row.need.name);
    if (!ok) list += " (" + users_text(row) + ")";
  }
  const std::string from = " [" + index.source() + "]";
  const std::string opt_note =
      opt_in_absent.empty() ? "" : "; opt-in, not on this kernel: " + opt_in_absent;
  if (core) {
    if (absent.empty())
      return pass("the probe's tracepoints are present: " + present + opt_note + from);
    return warn("tracepoints present: " + present + "; missing: " + absent + opt_note + from,
                "a newer kernel provides the missing tracepoints; until then what they give is "
                "not collected (ebpf.rung)");
  }
  if (answered(lf, probe::NeedKind::kKprobes).value_or(false))
    return warn(
        "sock/inet_sock_set_state is missing (kernel < 4.16): the probe uses its kprobe "
        "rung instead" +
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
  const auto& lf = ladder_facts(f);
  const auto k = answered(lf, probe::NeedKind::kKprobes);
  if (!k) return skip("this root does not describe /sys/bus");
  const bool pmu = f.fs.exists("/sys/bus/event_source/devices/kprobe/type");
  std::string targets;
  for (const auto& row : need_rows(lf, probe::NeedKind::kKernelFunction))
    if (row.asked)
      targets += (targets.empty() ? "" : ", ") + std::string(row.need.name) +
                 (row.answer == probe::Answer::kYes ? " found" : " not found");
  if (!targets.empty()) targets = "; the kprobe rung's targets in the kernel's symbols: " + targets;
  if (*k)
    return pass(std::string("kprobes available (") +
                (pmu ? "kprobe PMU" : "tracefs kprobe_events, the legacy interface") +
                "): the kprobe rung can attach" + targets);
  // Before the kprobe PMU (Linux 4.17) kprobes are made through kprobe_events, in tracing: with
  // tracing unmounted the kernel's support cannot be seen, nor used. From 4.17 a kernel with
  // kprobes has the PMU.
  const bool before_pmu = f.kernel && !f.kernel->at_least(4, 17, 0);
  if (before_pmu && !f.fs.exists("/sys/kernel/tracing/events") &&
      !f.fs.exists("/sys/kernel/debug/tracing/events"))
    return warn(
        "kprobes cannot be reached: no kprobe PMU (Linux 4.17+) and tracing is not mounted "
        "(its kprobe_events makes them): the probe's kprobe rung is out",
        tracing_mount_remedy(f));
  return warn(
      "kprobes are not available (no kprobe PMU, no tracefs kprobe_events: CONFIG_KPROBES "
      "unset): the probe's kprobe rung is out, the others use tracepoints",
      "nothing to do if ebpf.rung passes; for kernels without tracepoints boot one with "
      "CONFIG_KPROBES=y");
}

}  // namespace

void add_attach_checks(std::vector<CheckDef>& out) {
  out.push_back({"ebpf.btf", ebpf_btf});
  out.push_back({"ebpf.tracepoints", ebpf_tracepoints});
  out.push_back({"ebpf.kprobes", ebpf_kprobes});
}

}  // namespace cnm
