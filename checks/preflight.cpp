#include "checks/preflight.h"

#include "checks/bpf_probe.h"
#include "checks/ladder_facts.h"
#include "common/printable.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace cnm {
namespace {

JudgedProbe judged_probe(const PreflightOptions& o) {
  JudgedProbe p{o.layout.mode, bounded_utf8(o.probe_why, kMaxMessageBytes), {}};
  if (p.why.empty()) p.why = std::string("the layout's mode, ") + to_string(p.mode);
  for (const auto& note : o.probe_notes) p.notes.push_back(bounded_utf8(note, kMaxMessageBytes));
  return p;
}

}  // namespace

bool PreflightReport::any(Status s) const {
  return std::any_of(checks.begin(), checks.end(),
                     [s](const CheckResult& c) { return c.status == s; });
}

PreflightReport run_preflight(const PreflightOptions& options) {
  route_libbpf_logs();
  const HostFacts facts = gather_facts(options);
  PreflightReport r;
  // Host files say these: bounded as the schema says (kMaxHostFieldBytes).
  r.kernel_release = bounded_utf8(facts.kernel_release, kMaxHostFieldBytes);
  r.distro_id = bounded_utf8(facts.distro.id, kMaxHostFieldBytes);
  r.distro_version = bounded_utf8(facts.distro.version_id, kMaxHostFieldBytes);
  r.arch = bounded_utf8(facts.arch, kMaxHostFieldBytes);
  r.libc = facts.libc;
  if (r.libc) r.libc->source = bounded_utf8(r.libc->source, kMaxHostFieldBytes);
  r.in_container = facts.container.in_container;
  r.probe = judged_probe(options);
  for (const auto& def : check_catalog()) {
    const auto start = std::chrono::steady_clock::now();
    CheckResult res = def.run(facts);
    res.id = def.id;
    res.message = bounded_utf8(res.message, kMaxMessageBytes);
    res.remedy = bounded_utf8(res.remedy, kMaxMessageBytes);
    spdlog::debug("{} {} in {} us: {}", def.id, to_string(res.status),
                  std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count(),
                  res.message);
    r.checks.push_back(std::move(res));
  }
  r.supported = !r.any(Status::Fail);
  r.features.network_monitoring = r.supported;
  r.features.dns_resolution = r.supported;
  r.features.tcp_failed_connections = r.supported;
  for (const auto& c : r.checks) {
    for (const auto& [name, on] : c.features) {
      if (name == "dns_resolution") r.features.dns_resolution &= on;
      if (name == "tcp_failed_connections") r.features.tcp_failed_connections &= on;
      if (name == "cilium_compatible") r.features.cilium_compatible = on;
    }
  }
  // The probe's features are its rung's: what the verifier took on this kernel.
  const auto& lf = ladder_facts(facts);
  // Beside the Agent on a kernel without BTF no rung of cnmkit's is tried: unknown (null).
  if (lf.live && !lf.agents_own_btf) {
    const auto* run = lf.taken();
    if (run && r.supported) r.features.probe_rung = std::string(run->attempt.rung->name);
    r.features.open_connections_at_start =
        run && r.supported && run->attempt.has(probe::Role::kSnapshot);
    r.features.live_open_connection_counters =
        run && r.supported && run->attempt.has(probe::Role::kRefresh);
  }
  return r;
}

int exit_code(const PreflightReport& r, bool strict) {
  if (!r.supported) return 1;
  return strict && r.any(Status::Warn) ? 1 : 0;
}

}  // namespace cnm
