// The ladder's table (probe/ladder.h) against the BPF objects the binaries carry: every program
// is in the table with its type and section, calls exactly the helpers the table lists, and
// each rung needs exactly the map types of its object. So the preflight, which reads the table,
// asks the kernel for everything the daemon will load, and nothing else. Then the choice of a
// rung from the kernel's answers, over answers made up here for kernels this machine is not
// (the real kernels run it in tests/checks and, in VMs, tests/vm).
#include <bpf/libbpf.h>
#include <gelf.h>
#include <gtest/gtest.h>
#include <libelf.h>

#include <map>
#include <memory>
#include <set>
#include <string>

#include "probe/embedded_files.h"
#include "probe/ladder.h"
#include "probe/ladder_choice.h"

namespace cnm::probe {
namespace {

struct ObjectCloser {
  void operator()(bpf_object* o) const { bpf_object__close(o); }
};
using ObjectPtr = std::unique_ptr<bpf_object, ObjectCloser>;

ObjectPtr open_embedded(std::string_view file) {
  const auto bytes = embedded_object(file);
  if (!bytes) return nullptr;
  bpf_object_open_opts opts{};
  opts.sz = sizeof opts;
  opts.object_name = "ladder_test";
  bpf_object* o = bpf_object__open_mem(bytes->data(), bytes->size(), &opts);
  return libbpf_get_error(o) ? nullptr : ObjectPtr(o);
}

std::set<std::string_view> ladder_objects() {
  std::set<std::string_view> out;
  for (const auto& r : ladder()) out.insert(r.object);
  return out;
}

// Every program the table gives for an object, by name (the same program may serve two rungs).
std::map<std::string, const Program*> table_programs(std::string_view object) {
  std::map<std::string, const Program*> out;
  for (const auto& r : ladder())
    if (r.object == object)
      for (const auto& h : r.hooks)
        for (const auto& p : h.programs) out[std::string(p.name)] = &p;
  return out;
}

TEST(Ladder, EveryProgramOfEachObjectIsInTheTableWithItsTypeAndSection) {
  for (const auto object : ladder_objects()) {
    SCOPED_TRACE(std::string(object));
    auto obj = open_embedded(object);
    ASSERT_TRUE(obj) << "not embedded or not a BPF object";
    auto want = table_programs(object);
    bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, obj.get()) {
      const std::string name = bpf_program__name(prog);
      const auto it = want.find(name);
      if (it == want.end()) {
        ADD_FAILURE() << "program " << name << " is in the object but in no rung of the table";
        continue;
      }
      EXPECT_EQ(bpf_program__type(prog), it->second->type) << name;
      EXPECT_EQ(bpf_program__section_name(prog), it->second->section) << name;
      want.erase(it);
    }
    for (const auto& [name, p] : want) ADD_FAILURE() << "the table names " << name << ", absent";
  }
}

// Helper ids called by each function of an object (programs and subprograms), from its
// instructions: a call with source register 0 calls a helper. A function whose relocations point
// into .text calls or hands over (a callback) a subprogram, whose helpers it then calls too.
struct Calls {
  std::map<std::string, std::set<int>> helpers;  // function -> helpers
  std::map<std::string, bool> in_text;           // function -> is a subprogram (.text)
  std::map<std::string, bool> calls_text;        // function -> calls or takes a subprogram
};

Calls helper_calls(std::span<const std::byte> bytes) {
  Calls c;
  elf_version(EV_CURRENT);
  Elf* e = elf_memory(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())), bytes.size());
  if (!e) return c;
  std::size_t shstrndx = 0;
  elf_getshdrstrndx(e, &shstrndx);
  // Functions by section and range, to place relocations.
  struct Fn {
    std::string name;
    std::size_t section;
    GElf_Addr lo, hi;
  };
  std::vector<Fn> fns;
  std::size_t text = 0;
  Elf_Scn* symtab = nullptr;
  GElf_Shdr symtab_sh{};
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(e, scn))) {
    GElf_Shdr sh;
    gelf_getshdr(scn, &sh);
    if (std::string_view(elf_strptr(e, shstrndx, sh.sh_name)) == ".text") text = elf_ndxscn(scn);
    if (sh.sh_type == SHT_SYMTAB) {
      symtab = scn;
      symtab_sh = sh;
    }
  }
  if (!symtab) return c;
  Elf_Data* symdata = elf_getdata(symtab, nullptr);
  auto symbol = [&](std::size_t i) {
    GElf_Sym sym;
    gelf_getsym(symdata, static_cast<int>(i), &sym);
    return sym;
  };
  scn = nullptr;
  while ((scn = elf_nextscn(e, scn))) {
    GElf_Shdr sh;
    gelf_getshdr(scn, &sh);
    if (sh.sh_type != SHT_REL || sh.sh_link != elf_ndxscn(symtab)) continue;
    Elf_Data* rels = elf_getdata(scn, nullptr);
    for (std::size_t i = 0; i < sh.sh_size / sh.sh_entsize; ++i) {
      GElf_Rel rel;
      gelf_getrel(rels, static_cast<int>(i), &rel);
      if (symbol(GELF_R_SYM(rel.r_info)).st_shndx != text) continue;
      // Recorded against the section and offset; matched to its function below.
      c.calls_text["@" + std::to_string(sh.sh_info) + ":" + std::to_string(rel.r_offset)] = true;
    }
  }
  {
    const GElf_Shdr& sh = symtab_sh;
    Elf_Data* syms = symdata;
    for (std::size_t i = 0; i < sh.sh_size / sh.sh_entsize; ++i) {
      GElf_Sym sym;
      gelf_getsym(syms, static_cast<int>(i), &sym);
      if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF) continue;
      const std::string name = elf_strptr(e, sh.sh_link, sym.st_name);
      Elf_Scn* code = elf_getscn(e, sym.st_shndx);
      GElf_Shdr csh;
      gelf_getshdr(code, &csh);
      const std::string sec = elf_strptr(e, shstrndx, csh.sh_name);
      const auto* insns = static_cast<const bpf_insn*>(elf_getdata(code, nullptr)->d_buf);
      c.in_text[name] = sec == ".text";
      fns.push_back({name, sym.st_shndx, sym.st_value, sym.st_value + sym.st_size});
      auto& hs = c.helpers[name];
      for (std::size_t k = sym.st_value / 8; k < (sym.st_value + sym.st_size) / 8; ++k) {
        const bpf_insn& in = insns[k];
        if (in.code == (BPF_JMP | BPF_CALL) && in.src_reg == 0) hs.insert(in.imm);
        if (in.code == (BPF_JMP | BPF_CALL) && in.src_reg == BPF_PSEUDO_CALL)
          c.calls_text[name] = true;
      }
    }
  }
  for (const auto& [where, yes] : std::map<std::string, bool>(c.calls_text)) {
    if (where[0] != '@') continue;
    const auto colon = where.find(':');
    const std::size_t section = std::stoul(where.substr(1, colon - 1));
    const GElf_Addr off = std::stoull(where.substr(colon + 1));
    for (const auto& f : fns)
      if (f.section == section && off >= f.lo && off < f.hi) c.calls_text[f.name] = true;
    c.calls_text.erase(where);
  }
  elf_end(e);
  return c;
}

TEST(Ladder, EachProgramCallsExactlyTheHelpersTheTableLists) {
  for (const auto object : ladder_objects()) {
    SCOPED_TRACE(std::string(object));
    const auto bytes = embedded_object(object);
    ASSERT_TRUE(bytes);
    const Calls calls = helper_calls(*bytes);
    ASSERT_FALSE(calls.helpers.empty()) << "no functions read from the object";
    std::set<int> subprogram_helpers;  // a subprogram's helpers count for its callers
    for (const auto& [fn, hs] : calls.helpers)
      if (calls.in_text.at(fn)) subprogram_helpers.insert(hs.begin(), hs.end());
    int checked = 0;
    for (const auto& [name, p] : table_programs(object)) {
      ASSERT_TRUE(calls.helpers.contains(name)) << name;
      std::set<int> actual = calls.helpers.at(name);
      if (calls.calls_text.contains(name))
        actual.insert(subprogram_helpers.begin(), subprogram_helpers.end());
      std::set<int> listed(p->helpers.begin(), p->helpers.end());
      listed.insert(p->guarded_helpers.begin(), p->guarded_helpers.end());
      EXPECT_EQ(actual, listed) << name << ": helpers called vs. listed in probe/ladder.cpp";
      ++checked;
    }
    EXPECT_GT(checked, 0);
  }
}

TEST(Ladder, EachRungNeedsExactlyTheMapTypesOfItsObject) {
  for (const auto& r : ladder()) {
    SCOPED_TRACE(std::string(r.name));
    auto obj = open_embedded(r.object);
    ASSERT_TRUE(obj);
    std::set<int> in_object, needed;
    bpf_map* m = nullptr;
    bpf_object__for_each_map(m, obj.get()) {
      const std::string_view name = bpf_map__name(m);
      if (name.find('.') != std::string_view::npos) continue;  // global data (.rodata, .bss)
      in_object.insert(bpf_map__type(m));
    }
    for (const auto& n : rung_needs(r, Build::kNoSlots))
      if (n.need.kind == NeedKind::kMapType) needed.insert(n.need.id);
    EXPECT_EQ(in_object, needed);
  }
}

// Kernels before 5.12 refuse a program holding any BPF atomic but the plain add, even in code
// that a read-only setting makes dead (they check every instruction first). Every program the
// table does not mark as the connection-slot build must hold none: every atomic instruction of
// theirs is an add whose old value is not fetched.
TEST(Ladder, ProgramsWithoutSlotsUseOnlyAtomicsOlderKernelsTake) {
  int checked = 0, slot_atomics = 0;
  for (const auto object : ladder_objects()) {
    auto obj = open_embedded(object);
    ASSERT_TRUE(obj);
    const auto table = table_programs(object);
    bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, obj.get()) {
      const std::string name = bpf_program__name(prog);
      ASSERT_TRUE(table.contains(name)) << name;
      const bool slots = table.at(name)->build == Build::kSlots;
      const bpf_insn* insns = bpf_program__insns(prog);
      for (std::size_t i = 0; i < bpf_program__insn_cnt(prog); ++i) {
        const bpf_insn& in = insns[i];
        if (BPF_CLASS(in.code) != BPF_STX || BPF_MODE(in.code) != BPF_ATOMIC) continue;
        if (slots) {
          slot_atomics += in.imm != BPF_ADD;
          continue;
        }
        EXPECT_EQ(in.imm, BPF_ADD) << object << ":" << name << " instruction " << i;
      }
      checked += !slots;
    }
  }
  EXPECT_EQ(checked, 11);  // 7 of tcp_tracer.bpf.o, the 4 of tcp_tracer_legacy.bpf.o
  // And the check sees atomics at all: the slot builds hold compare-and-swap and exchanges.
  EXPECT_GT(slot_atomics, 0);
}

// --- Choosing: made-up kernels, each answering no to what it lacks (everything else: yes).
class MadeUpKernel : public KernelAnswers {
 public:
  explicit MadeUpKernel(std::set<std::string> no, std::set<std::string> unknown = {})
      : no_(std::move(no)), unknown_(std::move(unknown)) {}
  Answer answer(const Need& n) override {
    const std::string key = need_key(n);
    asked.insert(key);
    if (unknown_.contains(key)) return Answer::kUnknown;
    return no_.contains(key) ? Answer::kNo : Answer::kYes;
  }
  std::string kernel_function(std::string_view alts) override {
    for (const auto a : alternatives(alts))
      if (!no_.contains("symbol:" + std::string(a))) return std::string(a);
    return "";
  }
  std::set<std::string> asked;

 private:
  std::set<std::string> no_, unknown_;
};

std::string key(NeedKind k, int id = 0, int prog_type = 0, std::string_view name = "") {
  return need_key({k, id, prog_type, name});
}
const std::string kRingbuf = key(NeedKind::kMapType, BPF_MAP_TYPE_RINGBUF);
const std::string kKernelBtf = key(NeedKind::kKernelBtf);
const std::string kCoreBtf = key(NeedKind::kCoreBtf);
const std::string kSetStateTp = key(NeedKind::kTracepoint, 0, 0, "sock/inet_sock_set_state");
const std::string kCmpxchg = key(NeedKind::kCmpxchg);
const std::string kForEach =
    key(NeedKind::kHelper, BPF_FUNC_for_each_map_elem, BPF_PROG_TYPE_RAW_TRACEPOINT);

TEST(LadderChoice, AModernKernelTriesTpBtfWithEverythingFirstThenLessThenTheNextRungs) {
  MadeUpKernel k({});
  const auto c = choose(k, {"auto", false, true, /*all_rungs=*/true});
  ASSERT_GE(c.attempts.size(), 6u);
  EXPECT_EQ(c.attempts[0].describe(), "tp_btf (connection slots; snapshot, retransmits, refresh)");
  EXPECT_EQ(c.attempts[1].describe(),
            "tp_btf (no connection slots; snapshot, retransmits, refresh)");
  EXPECT_EQ(c.attempts[2].describe(), "tp_btf (connection slots; retransmits, refresh)");
  EXPECT_EQ(c.attempts[4].describe(), "tp_btf (connection slots)");
  EXPECT_EQ(c.attempts.back().describe(), "kprobe (no connection slots)");
  ASSERT_EQ(c.rungs.size(), ladder().size());
  for (const auto& r : c.rungs) EXPECT_TRUE(r.possible()) << r.rung->name;
  // The per-call hooks only when asked for.
  for (const auto& a : c.attempts) EXPECT_FALSE(a.has(Role::kSendBytes));
  const auto with = choose(k, {"auto", true, true});
  EXPECT_TRUE(with.attempts[0].has(Role::kSendBytes) && with.attempts[0].has(Role::kRecvBytes));
}

// By default the rungs after the first the kernel allows are not asked about: the kprobe rung's
// question (the kernel's symbols, read from /proc/kallsyms) is not worth asking on a kernel that
// runs tp_btf.
TEST(LadderChoice, RungsAfterTheFirstPossibleAreAskedOnlyOnRequest) {
  MadeUpKernel k({});
  const auto c = choose(k, {});
  ASSERT_EQ(c.rungs.size(), ladder().size());
  EXPECT_TRUE(c.rungs[0].possible());
  for (std::size_t i = 1; i < c.rungs.size(); ++i) {
    EXPECT_FALSE(c.rungs[i].asked) << c.rungs[i].rung->name;
    EXPECT_FALSE(c.rungs[i].possible());
  }
  for (const auto& a : c.attempts) EXPECT_EQ(a.rung->name, "tp_btf");
  for (const auto& q : k.asked) EXPECT_NE(q.rfind("kernel_function:", 0), 0u) << q;
  // A rung the others rule out is not asked about its kernel's symbols either.
  MadeUpKernel nokprobes({key(NeedKind::kKprobes)});
  choose(nokprobes, {"kprobe", false, true});
  for (const auto& q : nokprobes.asked) EXPECT_NE(q.rfind("kernel_function:", 0), 0u) << q;
}

TEST(LadderChoice, Linux510TakesTpBtfWithoutSlotsOrLiveCounters) {
  MadeUpKernel k({kCmpxchg, kForEach});  // no compare-and-swap (5.12), no for_each (5.13)
  const auto c = choose(k, {});
  EXPECT_EQ(c.attempts[0].describe(), "tp_btf (no connection slots; snapshot, retransmits)");
  ASSERT_EQ(c.rungs[0].lost.size(), 1u);
  EXPECT_EQ(c.rungs[0].lost[0]->role, Role::kRefresh);
  for (const auto& a : c.attempts) EXPECT_NE(a.build, Build::kSlots) << a.describe();
}

TEST(LadderChoice, NoRingBufferMeansThePerfBufferRungs) {
  MadeUpKernel k({kRingbuf});
  const auto c = choose(k, {});
  EXPECT_FALSE(c.rungs[0].possible());
  EXPECT_FALSE(c.rungs[1].possible());
  EXPECT_EQ(c.attempts[0].describe(), "raw_tp_perf (no connection slots; retransmits)");
  const auto all = choose(k, {"auto", false, true, true});
  EXPECT_EQ(all.attempts.back().describe(), "kprobe (no connection slots)");
}

TEST(LadderChoice, NoTracepointMeansKprobesAndNeitherMeansNothing) {
  MadeUpKernel k({kRingbuf, kSetStateTp, kKernelBtf});  // a 4.14 kernel with a BTF file
  const auto c = choose(k, {});
  ASSERT_FALSE(c.attempts.empty());
  EXPECT_EQ(c.attempts[0].describe(), "kprobe (no connection slots; retransmits)");
  MadeUpKernel none({kRingbuf, kSetStateTp, kKernelBtf, key(NeedKind::kKprobes)});
  const auto n = choose(none, {});
  EXPECT_TRUE(n.attempts.empty());
  for (const auto& r : n.rungs) EXPECT_FALSE(r.possible()) << r.rung->name;
}

TEST(LadderChoice, KprobeTargetsAreTheFirstAlternativeTheKernelHolds) {
  MadeUpKernel k({"symbol:tcp_retransmit_skb"});
  EXPECT_EQ(k.kernel_function("tcp_retransmit_skb|__tcp_retransmit_skb"), "__tcp_retransmit_skb");
  const auto* kp = find_rung("kprobe");
  ASSERT_NE(kp, nullptr);
  std::set<std::string> targets;
  for (const auto& h : kp->hooks) targets.insert(std::string(h.target));
  EXPECT_TRUE(targets.contains("tcp_set_state"));
}

TEST(LadderChoice, WithoutAnyBtfNoRungRunsAndTheAnswerSaysSo) {
  MadeUpKernel k({kKernelBtf, kCoreBtf});
  const auto c = choose(k, {});
  EXPECT_TRUE(c.attempts.empty());
  const auto why = why_no_rung(c, "none: no kernel BTF (/sys/kernel/btf/vmlinux)");
  EXPECT_EQ(why.find("no rung of the probe's ladder can run on this kernel; no BTF for this "
                     "kernel: none: no kernel BTF"),
            0u)
      << why;
  EXPECT_NE(why.find("Kernels without BTF"), std::string::npos) << why;
  EXPECT_NE(why.find("kprobe needs BTF for this kernel"), std::string::npos) << why;
  for (const auto& r : c.rungs) {
    bool btf = false;
    for (const auto& m : r.missing)
      btf |= m.need.kind == NeedKind::kCoreBtf || m.need.kind == NeedKind::kKernelBtf;
    EXPECT_TRUE(btf) << r.rung->name;
  }
}

TEST(LadderChoice, ARungNamedInTheConfigIsTheOnlyOneTried) {
  MadeUpKernel k({});
  const auto c = choose(k, {"raw_tp", false, true});
  ASSERT_EQ(c.rungs.size(), 1u);
  for (const auto& a : c.attempts) EXPECT_EQ(a.rung->name, "raw_tp");
  EXPECT_EQ(c.attempts[0].describe(), "raw_tp (connection slots; snapshot, retransmits, refresh)");
  EXPECT_TRUE(choose(k, {"no_such_rung", false, true}).attempts.empty());
}

TEST(LadderChoice, AnUnansweredTracepointIsTriedAndReportedAsUnknown) {
  MadeUpKernel k({}, {kSetStateTp});  // no tracefs and no BTF to look in
  const auto c = choose(k, {"raw_tp_perf", false, true});
  ASSERT_FALSE(c.attempts.empty());
  ASSERT_FALSE(c.rungs[0].unknown.empty());
  EXPECT_EQ(need_key(c.rungs[0].unknown[0].need), kSetStateTp);
}

}  // namespace
}  // namespace cnm::probe
