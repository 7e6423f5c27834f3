// From the kernel's answers to what to load: which rungs this host can run, what each lacks,
// and the attempts to make, best first. The daemon loads the attempts in this order and keeps
// the first that loads and attaches; the preflight verifies them in the same order and reports
// the first that passes the verifier. Pure logic over KernelAnswers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "probe/kernel_answers.h"
#include "probe/ladder.h"

namespace cnm::probe {

struct ChoiceOptions {
  std::string hook_set = "auto";  // "auto", or a rung's name: that rung alone
  bool per_call_hooks = false;    // load the opt-in hooks too
  bool slots = true;              // connection slots wanted (the config asks for enough)
  // Ask about every rung, or stop after the first the kernel's answers allow (the rest are
  // listed unasked): some questions are dear (the kprobe rung's reads /proc/kallsyms, ~0.1 s),
  // and a host that runs a better rung never needs the answer. Callers ask for all only when
  // every attempt of the first rung failed.
  bool all_rungs = false;
};

// What one rung lacks on this host.
struct RungAssessment {
  const Rung* rung = nullptr;
  bool asked = true;  // false: not asked about (a rung before it can run, ChoiceOptions)
  std::vector<RungNeed> missing;  // required needs the kernel said no to: the rung cannot run
  std::vector<RungNeed> unknown;  // could not be asked (no tracefs and no BTF): tried anyway
  std::vector<const Hook*> lost;  // optional hooks it cannot have here
  bool possible() const { return asked && missing.empty(); }
};

// One thing to try to load: a rung, a build of its slot programs, the hooks to load.
struct Attempt {
  const Rung* rung = nullptr;
  Build build = Build::kNoSlots;
  std::vector<const Hook*> hooks;
  bool has(Role r) const;
  // The programs to load, one per hook (the build's).
  std::vector<const Program*> programs() const;
  // "tp_btf (connection slots; snapshot, retransmits, refresh)": stable, used as a key.
  std::string describe() const;
};

struct Choice {
  std::vector<RungAssessment> rungs;  // ladder order (only the forced one when forced)
  std::vector<Attempt> attempts;      // best first
};

Choice choose(KernelAnswers& k, const ChoiceOptions& o);

// Why no rung can run (c.attempts empty): the BTF first when there is none (every rung needs
// it; no_btf says why there is none, "" when there is), then what each rung lacks.
std::string why_no_rung(const Choice& c, const std::string& no_btf);

// The needs' texts, comma-separated.
std::string needs_text(const std::vector<RungNeed>& needs);

// The program of a hook for a build (nullptr when it has none).
const Program* program_for(const Hook& h, Build b);

}  // namespace cnm::probe
