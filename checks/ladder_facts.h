// What the probe's ladder (probe/ladder.h) makes of this host, worked out once per preflight and
// read by the ebpf.* checks: which rungs it can run and what each lacks (from the kernel's
// answers), then the verifier's dry run of the attempts, in the daemon's order, up to the first
// it takes: the rung this host really gets. The objects are those cnmctl carries (the ones the
// daemon of this build loads) unless --bpf-objects names a folder. Answers and verdicts come from
// the kernel memory (kernel_memory.h) when this kernel build was seen before.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "checks/host_facts.h"
#include "probe/ladder_choice.h"
#include "probe/ladder_load.h"

namespace cnm {

// Beside the Agent, on a kernel without BTF: the Agent's system-probe relocates with the BTF
// files it ships for the distributions it supports (embedded/share/system-probe/ebpf/co-re/btf/
// minimized-btfs.tar.xz, pkg/ebpf/btf.go), compiles its programs at start against the kernel's
// headers (embedded/bin/clang-bpf), or loads its prebuilt objects, so a kernel without BTF
// does not keep it from running, and cnmkit's BTF archive is not for it.
inline constexpr const char* kAgentsOwnObjects =
    "the Datadog Agent's system-probe brings its own BTF files for this case, else compiles its "
    "programs against the kernel headers or loads its prebuilt ones";

struct AttemptRun {
  probe::Attempt attempt;
  std::vector<probe::ProgramVerdict> verdicts;
  bool passed = false;
};

struct LadderFacts {
  // The kernel was asked (live host, bpf() usable, privileged): the answers that need bpf() and
  // the dry run exist. Otherwise only what files say (tracepoints, kprobe PMU, BTF).
  bool live = false;
  std::string not_live;  // why not

  probe::Choice choice;
  std::map<std::string, probe::Answer> answers;  // every question asked, by need key
  std::string btf;                               // where BTF comes from (BtfSource::description)
  bool no_btf = false;                           // none: no rung can relocate its reads
  // Beside the Agent on a kernel without BTF: the Agent's system-probe brings its own way to
  // run (below, agent_brings_btf); the ladder is judged on the kernel's attach points alone.
  bool agents_own_btf = false;
  std::string objects;  // "embedded in cnmctl" or the folder given

  std::vector<AttemptRun> tried;             // in order, up to the first the verifier takes
  std::vector<probe::ProgramVerdict> other;  // objects outside the ladder (DNS monitoring's)
  bool remembered = false;                   // answers or verdicts came from the memory

  const AttemptRun* taken() const;  // nullptr when none passed (or not live)
  const probe::RungAssessment* assessment(const probe::Rung& r) const;
};

// Worked out once per HostFacts (facts are gathered once per preflight).
const LadderFacts& ladder_facts(const HostFacts& f);

}  // namespace cnm

namespace cnm {

// One need of the ladder, as the host answered it, with who needs it ("raw_tp", or
// "tp_btf: refresh" for an optional job).
struct NeedRow {
  probe::Need need;
  std::vector<std::string> users;
  probe::Answer answer = probe::Answer::kUnknown;
  bool asked = false;
};

// Every need of a kind across the ladder, in table order.
std::vector<NeedRow> need_rows(const LadderFacts& lf, probe::NeedKind kind);

// What a missing need of this kind costs the host: true when it makes the host run a lesser
// rung than the first, takes a job from the rung it runs, or (with others) leaves no rung.
bool kind_costs(const LadderFacts& lf, probe::NeedKind kind);

// "tp_btf, raw_tp: refresh"; and "a (tp_btf, raw_tp), b (kprobe)".
std::string users_text(const NeedRow& row);
std::string rows_text(const std::vector<NeedRow>& rows);

}  // namespace cnm
