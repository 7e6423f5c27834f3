// ebpf.rung and ebpf.probe_objects: the rung of the probe's ladder (probe/ladder.h) this host
// really gets, and the verifier's word on each of its programs. The objects are those cnmctl
// carries (the very bytes the daemon of this build loads), so this runs on any host before
// anything is installed; --bpf-objects DIR verifies the objects in DIR instead.
#include <algorithm>

#include "checks/check.h"
#include "checks/ladder_facts.h"

namespace cnm {
namespace {

std::string verdicts_text(const std::vector<probe::ProgramVerdict>& vs, bool loaded) {
  std::string s;
  for (const auto& v : vs) {
    if (v.loaded != loaded) continue;
    s += (s.empty() ? ""
          : loaded  ? ", "
                    : "; ") +
         v.object + ":" + (v.program.empty() ? "?" : v.program);
    if (!loaded) s += " (" + v.error + ")";
  }
  return s;
}

// What the rungs before `taken` lack here.
std::string better_rungs_lack(const LadderFacts& lf, const probe::Rung& taken) {
  std::string s;
  for (const auto& a : lf.choice.rungs) {
    if (a.rung == &taken) break;
    if (a.asked && !a.possible())
      s += (s.empty() ? "" : "; ") + std::string(a.rung->name) + " needs " +
           probe::needs_text(a.missing);
  }
  return s;
}

// Beside the Agent on a kernel without BTF: the kernel has what a rung attaches to, and the
// Agent's own objects do the rest (cnmkit's are not dry-run).
CheckResult agents_own_objects(const LadderFacts& lf) {
  for (const auto& a : lf.choice.rungs)
    if (a.possible() && a.unknown.empty())
      return pass("the kernel has what rung " + std::string(a.rung->name) + " attaches to; " +
                  kAgentsOwnObjects);
  return skip("the kernel's attach points cannot all be asked here (ebpf.tracepoints); " +
              std::string(kAgentsOwnObjects));
}

CheckResult ebpf_rung(const HostFacts& f) {
  const auto& lf = ladder_facts(f);
  const bool any_possible = std::any_of(lf.choice.rungs.begin(), lf.choice.rungs.end(),
                                        [](const auto& a) { return a.possible(); });
  // Under --root only files answer (BTF, tracepoints, kprobes), the rest is unknown and counts
  // as there: when even so no rung can run, the root's own files prove it (a root that does not
  // describe /sys/kernel proves nothing). Otherwise which rung runs needs the live kernel.
  const bool proven_by_files = !f.fs.is_live() && f.fs.describes("/sys/kernel");
  if (!lf.live && !(proven_by_files && !any_possible)) return skip(lf.not_live);
  if (!any_possible)
    return fail(
        probe::why_no_rung(lf.choice, lf.no_btf && !lf.agents_own_btf ? lf.btf : std::string()) +
            (lf.live ? "" : " (from the root's files)"),
        "see the other ebpf.* checks for each missing piece; kernels with kprobes or "
        "4.16+ tracepoints, a BPF ring buffer or perf event arrays, and BTF (the kernel's "
        "or a file) run the probe");
  if (lf.agents_own_btf) return agents_own_objects(lf);
  const auto* run = lf.taken();
  if (!run)
    return fail(
        "the verifier refused every attempt of the probe's ladder on this kernel "
        "(ebpf.probe_objects says which programs and why)",
        "report the verifier's words (cnmctl preflight -vv) with the kernel release");
  const auto& a = run->attempt;
  std::string msg = "the probe runs rung " + std::string(a.rung->name) + " here: " + a.describe() +
                    ", " + std::string(a.rung->summary);
  if (a.rung != &probe::ladder().front()) {
    msg += "; costs " + std::string(a.rung->cost);
    if (const auto why = better_rungs_lack(lf, *a.rung); !why.empty()) msg += " (" + why + ")";
  }
  if (a.rung->channel == probe::Channel::kPerfBuffer)
    msg +=
        "; no BPF ring buffer (Linux 5.8): closed connections come through per-CPU perf "
        "buffers, with the same drop count";
  std::string without;
  std::map<probe::Role, std::string_view> jobs;
  for (const auto& r : probe::ladder())
    for (const auto& h : r.hooks)
      if (!h.required && !h.opt_in) jobs.emplace(h.role, h.loses);
  for (const auto& [role, loses] : jobs)
    if (!a.has(role)) without += (without.empty() ? "" : "; ") + std::string(loses);
  if (!without.empty()) msg += "; without: " + without;
  return pass(msg);
}

CheckResult probe_objects(const HostFacts& f) {
  const auto& lf = ladder_facts(f);
  if (!lf.live) return skip(lf.not_live);
  if (lf.agents_own_btf) return skip(kAgentsOwnObjects);
  int loaded = 0, refused = 0;
  std::string accepted, refusals;
  auto add = [&](const std::vector<probe::ProgramVerdict>& vs) {
    for (const auto& v : vs) (v.loaded ? loaded : refused) += 1;
    for (const bool ok : {true, false}) {
      const auto t = verdicts_text(vs, ok);
      std::string& list = ok ? accepted : refusals;
      if (!t.empty()) list += (list.empty() ? "" : ok ? ", " : "; ") + t;
    }
  };
  for (const auto& run : lf.tried) add(run.verdicts);
  add(lf.other);
  const std::string from = " [objects " + lf.objects +
                           (lf.remembered ? "; verdicts remembered "
                                            "for this kernel build"
                                          : "") +
                           "]";
  if (lf.tried.empty() && lf.other.empty()) return skip("nothing to verify: no rung can run here");
  const auto* run = lf.taken();
  if (refused == 0)
    return pass(std::to_string(loaded) + " probe program(s) pass the verifier: " + accepted + from);
  const std::string msg = std::to_string(refused) + " probe program(s) refused: " + refusals +
                          (loaded ? "; accepted: " + accepted : "") + from;
  if (!run)
    return fail(msg, "report the verifier's words (cnmctl preflight -vv) with the kernel release");
  return warn(msg, "the probe runs " + run->attempt.describe() +
                       " (ebpf.rung says what that costs); a refused program's job is not done "
                       "here: cnmctl preflight -vv shows the verifier's log");
}

}  // namespace

void add_object_checks(std::vector<CheckDef>& out) {
  out.push_back({"ebpf.rung", ebpf_rung});
  out.push_back({"ebpf.probe_objects", probe_objects});
}

}  // namespace cnm
