#include "probe/ladder_choice.h"

#include <algorithm>

namespace cnm::probe {
namespace {

RungAssessment assess(const Rung& r, KernelAnswers& k, const ChoiceOptions& o) {
  RungAssessment a;
  a.rung = &r;
  auto needs = rung_needs(r, Build::kNoSlots);
  // The dear question (kernel symbols) last, and only for a rung nothing else rules out.
  std::stable_partition(needs.begin(), needs.end(),
                        [](const RungNeed& n) { return n.need.kind != NeedKind::kKernelFunction; });
  for (const auto& n : needs) {
    if (n.hook && n.hook->opt_in && !o.per_call_hooks) continue;
    if (n.need.kind == NeedKind::kKernelFunction && !a.missing.empty()) continue;
    const Answer ans = k.answer(n.need);
    if (ans == Answer::kUnknown) a.unknown.push_back(n);
    if (ans != Answer::kNo) continue;
    if (!n.optional) {
      a.missing.push_back(n);
    } else if (std::find(a.lost.begin(), a.lost.end(), n.hook) == a.lost.end()) {
      a.lost.push_back(n.hook);
    }
  }
  return a;
}

}  // namespace

const Program* program_for(const Hook& h, Build b) {
  for (const auto& p : h.programs)
    if (p.build == Build::kAny || p.build == b) return &p;
  return nullptr;
}

bool Attempt::has(Role r) const {
  return std::any_of(hooks.begin(), hooks.end(), [r](const Hook* h) { return h->role == r; });
}

std::vector<const Program*> Attempt::programs() const {
  std::vector<const Program*> out;
  for (const Hook* h : hooks)
    if (const Program* p = program_for(*h, build)) out.push_back(p);
  return out;
}

std::string Attempt::describe() const {
  std::string s(rung->name);
  std::string extras;
  for (const Hook* h : hooks)
    if (h->role != Role::kState)
      extras += (extras.empty() ? "" : ", ") + std::string(role_name(h->role));
  s += " (";
  s += build == Build::kSlots ? "connection slots" : "no connection slots";
  if (!extras.empty()) s += "; " + extras;
  return s + ")";
}

std::string needs_text(const std::vector<RungNeed>& needs) {
  std::string s;
  for (const auto& n : needs) s += (s.empty() ? "" : ", ") + need_text(n.need);
  return s;
}

std::string why_no_rung(const Choice& c, const std::string& no_btf) {
  std::string s = "no rung of the probe's ladder can run on this kernel";
  if (!no_btf.empty())
    s += "; no BTF for this kernel: " + no_btf +
         " (add a BTF file as probe/README.md says under \"Kernels without BTF\", or set "
         "system_probe_config.btf_path)";
  for (const auto& r : c.rungs)
    if (!r.possible()) s += "; " + std::string(r.rung->name) + " needs " + needs_text(r.missing);
  return s;
}

Choice choose(KernelAnswers& k, const ChoiceOptions& o) {
  Choice c;
  bool found = false;
  for (const auto& r : ladder()) {
    if (o.hook_set != "auto" && r.name != o.hook_set) continue;
    if (found && !o.all_rungs) {
      RungAssessment unasked;
      unasked.rung = &r;
      unasked.asked = false;
      c.rungs.push_back(unasked);
      continue;
    }
    c.rungs.push_back(assess(r, k, o));
    found = found || c.rungs.back().possible();
  }
  for (const auto& a : c.rungs) {
    if (!a.possible()) continue;
    const Rung& r = *a.rung;
    std::vector<Build> builds;
    if (r.slots && o.slots && k.answer({NeedKind::kCmpxchg, 0, 0, "cmpxchg"}) == Answer::kYes)
      builds.push_back(Build::kSlots);
    builds.push_back(Build::kNoSlots);
    // Hook sets, most first: every hook the host has; without the snapshot iterator (a kernel
    // may refuse it and take the rest); the required hooks alone.
    std::vector<const Hook*> all, required;
    for (const auto& h : r.hooks) {
      if (h.opt_in && !o.per_call_hooks) continue;
      if (std::find(a.lost.begin(), a.lost.end(), &h) != a.lost.end()) continue;
      all.push_back(&h);
      if (h.required) required.push_back(&h);
    }
    std::vector<const Hook*> no_snapshot;
    for (const Hook* h : all)
      if (h->role != Role::kSnapshot) no_snapshot.push_back(h);
    std::vector<std::vector<const Hook*>> sets = {all};
    if (no_snapshot != all) sets.push_back(no_snapshot);
    if (required != sets.back()) sets.push_back(required);
    for (const auto& hooks : sets)
      for (const Build b : builds) c.attempts.push_back({&r, b, hooks});
  }
  return c;
}

}  // namespace cnm::probe
