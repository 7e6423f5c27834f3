// The preflight's memory of a kernel (checks/kernel_memory.h): the build id read from ELF notes,
// a file for another kernel (or a broken one) ignored, answers and verdicts kept across runs,
// written atomically, and nothing but what the kernel build fixes kept.
#include "checks/kernel_memory.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tests/support/test_support.h"

namespace cnm {
namespace {

std::string note(std::uint32_t type, std::string_view name, std::string_view desc) {
  auto pad = [](std::string s) {
    s.resize((s.size() + 3) & ~std::size_t{3}, '\0');
    return s;
  };
  const std::uint32_t h[3] = {static_cast<std::uint32_t>(name.size()),
                              static_cast<std::uint32_t>(desc.size()), type};
  std::string out(reinterpret_cast<const char*>(h), sizeof h);
  return out + pad(std::string(name)) + pad(std::string(desc));
}

TEST(KernelMemory, BuildIdIsTheGnuNoteAmongOthers) {
  const std::string id("\x12\x34\xab\xcd\xef", 5);
  const auto notes = note(6, std::string("Xen\0", 4), "abcdefgh") +
                     note(3, std::string("GNU\0", 4), id) + note(1, std::string("GNU\0", 4), "x");
  EXPECT_EQ(gnu_build_id(notes), "1234abcdef");
  EXPECT_EQ(gnu_build_id(note(6, std::string("Xen\0", 4), "abc")), "");
  EXPECT_EQ(gnu_build_id(""), "");
  EXPECT_EQ(gnu_build_id(notes.substr(0, 20)), "");  // a note running past the end is not read
  // What this machine's kernel says (root or not, /sys/kernel/notes is world-readable).
  const HostFs live;
  const auto identity = kernel_identity(live);
  EXPECT_TRUE(identity.rfind("build-id:", 0) == 0 || identity.rfind("version:", 0) == 0)
      << identity;
  EXPECT_NE(identity.find(",lockdown:"), std::string::npos);
}

TEST(KernelMemory, KeepsAnswersAndVerdictsForThisKernelOnly) {
  test::TempDir dir;
  const auto file = dir / "cache/preflight-kernel.json";
  const probe::Need ringbuf{probe::NeedKind::kMapType, BPF_MAP_TYPE_RINGBUF, 0, "ringbuf"};
  {
    KernelMemory m(file, "build-id:aa");
    EXPECT_FALSE(m.answer(probe::need_key(ringbuf)));
    m.remember(probe::need_key(ringbuf), probe::Answer::kYes);
    m.remember("sha|btf|tp_btf (...)", {{"tcp_tracer.bpf.o", "set_state_btf", true, ""},
                                        {"tcp_tracer.bpf.o", "snapshot", false, "EINVAL: why"}});
    EXPECT_FALSE(m.recalled());
    ASSERT_TRUE(m.save());
  }
  KernelMemory again(file, "build-id:aa");
  EXPECT_EQ(again.answer(probe::need_key(ringbuf)), probe::Answer::kYes);
  const auto v = again.verdicts("sha|btf|tp_btf (...)");
  ASSERT_TRUE(v);
  ASSERT_EQ(v->size(), 2u);
  EXPECT_FALSE((*v)[1].loaded);
  EXPECT_EQ((*v)[1].error, "EINVAL: why");
  EXPECT_TRUE(again.recalled());
  EXPECT_FALSE(again.verdicts("other-sha|btf|tp_btf (...)"));
  // Another kernel build, or a file that is not ours, remembers nothing.
  KernelMemory other(file, "build-id:bb");
  EXPECT_FALSE(other.answer(probe::need_key(ringbuf)));
  test::write_file(file, "{ not json");
  KernelMemory broken(file, "build-id:aa");
  EXPECT_FALSE(broken.answer(probe::need_key(ringbuf)));
  test::write_file(file, R"({"format": 1, "kernel": "build-id:aa", "answers": 3, "verdicts": {}})");
  KernelMemory wrong(file, "build-id:aa");
  EXPECT_FALSE(wrong.answer(probe::need_key(ringbuf)));
}

TEST(KernelMemory, OnlyWhatTheKernelBuildFixesIsKept) {
  using probe::NeedKind;
  EXPECT_TRUE(KernelMemory::keeps({NeedKind::kHelper, 1, 17, "x"}));
  EXPECT_TRUE(KernelMemory::keeps({NeedKind::kKernelFunction, 0, 0, "tcp_set_state"}));
  EXPECT_TRUE(KernelMemory::keeps({NeedKind::kCmpxchg, 0, 0, "cmpxchg"}));
  // Mounts and files change without a new kernel: asked every time (they cost nothing).
  EXPECT_FALSE(KernelMemory::keeps({NeedKind::kKprobes, 0, 0, "kprobes"}));
  EXPECT_FALSE(KernelMemory::keeps({NeedKind::kKernelBtf, 0, 0, "kernel BTF"}));
  EXPECT_FALSE(KernelMemory::keeps({NeedKind::kCoreBtf, 0, 0, "BTF"}));
}

TEST(KernelMemory, AFolderThatCannotBeWrittenIsNoError) {
  test::TempDir dir;
  test::write_file(dir / "file", "");
  KernelMemory m(dir / "file/sub/preflight-kernel.json", "build-id:aa");  // under a file
  m.remember("x", probe::Answer::kNo);
  EXPECT_FALSE(m.save());
}

}  // namespace
}  // namespace cnm
