// The probe's objects relocated against the part of the kernel's BTF their CO-RE relocations can
// see (probe/core_btf.h, what the daemon and the preflight do) load the very instructions they
// load relocated against the whole of it (libbpf's own lookup): the kernel's tag of each program
// (a hash of its instructions, map references masked) is the same both ways. Needs root and the
// kernel's BTF; fails without them.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>

#include "probe/kernel_answers.h"
#include "probe/ladder_choice.h"
#include "probe/ladder_load.h"

namespace cnm::probe {
namespace {

std::map<std::string, std::string> tags(const Attempt& a, bool subset) {
  auto s = verification_settings("", std::nullopt);
  s.kernel_btf_subset = subset;
  PreparedObject o(a, s);
  EXPECT_EQ(o.load(), 0) << a.describe() << (subset ? " (subset)" : " (whole BTF)");
  std::map<std::string, std::string> out;
  for (const Program* p : a.programs()) {
    bpf_program* prog = o.program(*p);
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (!prog || bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) != 0) {
      ADD_FAILURE() << "no info for " << p->name;
      continue;
    }
    out[std::string(p->name)] =
        std::string(reinterpret_cast<const char*>(info.tag), sizeof info.tag);
  }
  return out;
}

TEST(LadderCoreBtf, TheSubsetRelocatesEveryProgramAsTheWholeKernelBtf) {
  ASSERT_EQ(::geteuid(), 0U) << "loads BPF programs: run as root";
  ASSERT_EQ(::access("/sys/kernel/btf/vmlinux", R_OK), 0) << "needs the kernel's BTF";
  LiveKernel k;
  ChoiceOptions all;
  all.all_rungs = true;
  all.per_call_hooks = true;
  const auto choice = choose(k, all);
  int compared = 0;
  for (const auto& a : choice.attempts) {
    const auto whole = tags(a, false), cut = tags(a, true);
    EXPECT_EQ(whole, cut) << a.describe();
    compared += static_cast<int>(whole.size());
  }
  EXPECT_GE(compared, 4) << "the attempts of this kernel hold at least the tp_btf rung's programs";
}

}  // namespace
}  // namespace cnm::probe
