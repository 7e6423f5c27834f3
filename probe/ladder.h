// The probe's ladder: every way ("rung") it has of producing the same connection records, best
// first, and what each needs from the kernel. This table is the one statement of what the probe
// needs: the daemon walks it to choose what to load (tracer.cpp), the preflight walks it to say
// which rung a host gets and what it loses (checks/), and tests check it against the BPF objects
// themselves (every program, its type, section, helpers and maps). Pure data and logic: no
// kernel access here (kernel_answers.h answers the questions).
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cnm::probe {

// What one requirement asks of the kernel.
enum class NeedKind {
  kProgramType,     // program type `id` loads (libbpf's probe)
  kMapType,         // map type `id` is created
  kHelper,          // helper `id` is offered to programs of type `prog_type`
  kTracepoint,      // tracepoint `name` ("category/name") exists
  kKernelFunction,  // kernel function `name` is in the kernel's symbols (kprobe target)
  kKprobes,         // kprobes attach: kprobe PMU, or tracefs kprobe_events (legacy)
  kKernelBtf,       // the kernel's own BTF (/sys/kernel/btf/vmlinux): BTF-typed programs
  kCoreBtf,         // BTF to relocate CO-RE reads: the kernel's own, or a BTF file for it
  kCmpxchg,         // BPF compare-and-swap (connection slots)
};

struct Need {
  NeedKind kind;
  int id = 0;         // program type, map type or helper id
  int prog_type = 0;  // kHelper: the program type asked for
  std::string_view name;
};

// A stable text key for a need (answers are remembered by it) and a readable name.
std::string need_key(const Need& n);
std::string need_text(const Need& n);

// What a program is for within its rung.
enum class Role {
  kState,        // inet_sock_set_state: open, close, tuple, pid, counters at close (required)
  kSnapshot,     // TCP socket iterator: connections open before the start
  kRetransmits,  // retransmits of open connections as they happen
  kRefresh,      // live counters of open connections (run on demand, never attached)
  kSendBytes,    // per-call hooks (network_config.per_call_hooks)
  kRecvBytes,
};
std::string_view role_name(Role r);

// Which build of the programs that take connection slots (BPF compare-and-swap) a program is.
enum class Build { kAny, kSlots, kNoSlots };

// How a program is attached.
enum class Attach {
  kTracepointBtf,  // tp_btf: BTF-typed tracepoint
  kRawTracepoint,  // raw_tp
  kKprobe,         // kprobe on the first of `targets` the kernel's symbols hold
  kIterator,       // iter/tcp, run once at start
  kTestRun,        // never attached: BPF_PROG_TEST_RUN on demand
};

struct Program {
  std::string_view name;     // function name in the object (the kernel keeps 15 characters)
  bpf_prog_type type;        // as libbpf derives it from the section
  std::string_view section;  // ELF section
  Build build;
  std::span<const bpf_func_id> helpers;  // every helper its instructions call
  // Helpers called only where the kernel's BTF declares them (CO-RE guarded): never required.
  std::span<const bpf_func_id> guarded_helpers = {};
};

// One job of a rung, done by one of its programs (the one of the build loaded).
struct Hook {
  Role role;
  Attach attach;
  // Tracepoint ("category/name") or kernel function; alternatives separated by '|', best first
  // (the first the kernel has is used); empty for kIterator and kTestRun.
  std::string_view target;
  bool required;
  std::string_view loses;  // what a host without it does not get (optional hooks)
  std::span<const Program> programs;
  std::span<const Need> needs = {};  // beyond its programs' types and helpers
  bool opt_in = false;               // loaded only when the config asks (per-call hooks)
};

// How closed connections reach the daemon.
enum class Channel { kRingBuffer, kPerfBuffer };

struct Rung {
  std::string_view name;    // what network_config.hook_set names, and /debug/stats reports
  std::string_view object;  // its BPF object (embedded_objects.h)
  std::string_view summary;
  std::string_view cost;  // what it costs against the rung before it, as measured (README)
  Channel channel;
  bool slots;  // has a build with connection slots
  std::span<const Hook> hooks;
  std::span<const Need> needs;  // rung-wide: maps, BTF, attach mechanism
};

// The alternatives of a hook's target, best first.
std::vector<std::string_view> alternatives(std::string_view target);

// Every rung, best first.
std::span<const Rung> ladder();
const Rung* find_rung(std::string_view name);  // nullptr when unknown
std::string rung_names();                      // "tp_btf, raw_tp, ..." for messages

// Every need of a rung: its own, its hooks' (program types, helpers of the programs of the given
// build, attach targets). Optional hooks' needs come with `optional` set.
struct RungNeed {
  Need need;
  const Hook* hook;  // nullptr for the rung's own
  bool optional;     // missing costs `hook->loses`, not the rung
};
std::vector<RungNeed> rung_needs(const Rung& r, Build build);

}  // namespace cnm::probe
