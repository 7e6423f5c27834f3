// The preflight's memory of a kernel (checks/kernel_memory.h): the build id read from ELF notes,
// a file for another kernel (or a broken one) ignored, answers and verdicts kept across runs,
// written atomically, and nothing but what the kernel build fixes kept.
#include "checks/kernel_memory.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <future>

#include "common/unique_fd.h"
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

// A FIFO (or a folder) at the memory's path is not read: a plain read blocked forever on a FIFO
// with no writer. The memory starts empty, as for any file that is not this kernel's.
TEST(KernelMemory, AFifoOrAFolderAtItsPathIsIgnoredWithoutBlocking) {
  test::TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "fifo.json").c_str(), 0644), 0);
  std::filesystem::create_directories(dir / "folder.json");
  for (const char* name : {"fifo.json", "folder.json"}) {
    auto done = std::async(std::launch::async, [&] {
      KernelMemory m(dir / name, "build-id:aa");
      return m.answer("x").has_value();
    });
    if (done.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      // Report it rather than hang in the future's destructor: a writer that opens and closes
      // the FIFO releases a reader blocked on it (its read then ends).
      ADD_FAILURE() << name << " blocked for 10 s";
      const UniqueFd writer(::open((dir / name).c_str(), O_WRONLY | O_NONBLOCK));
    }
    EXPECT_FALSE(done.get()) << name;
  }
}

// --no-cache: what the file says is used, nothing is written, no folder is created.
TEST(KernelMemory, ReadOnlyReadsButNeverWrites) {
  test::TempDir dir;
  {
    KernelMemory m(dir / "c/preflight-kernel.json", "build-id:aa");
    m.remember("x", probe::Answer::kNo);
    ASSERT_TRUE(m.save());
  }
  const auto before = std::filesystem::last_write_time(dir / "c/preflight-kernel.json");
  KernelMemory ro(dir / "c/preflight-kernel.json", "build-id:aa", /*read_only=*/true);
  EXPECT_EQ(ro.answer("x"), probe::Answer::kNo);
  ro.remember("y", probe::Answer::kYes);
  EXPECT_TRUE(ro.save());
  EXPECT_EQ(std::filesystem::last_write_time(dir / "c/preflight-kernel.json"), before);
  EXPECT_FALSE(KernelMemory(dir / "c/preflight-kernel.json", "build-id:aa").answer("y"));
  KernelMemory fresh(dir / "new/sub/preflight-kernel.json", "build-id:aa", true);
  fresh.remember("x", probe::Answer::kNo);
  EXPECT_TRUE(fresh.save());
  EXPECT_FALSE(std::filesystem::exists(dir / "new"));
}

}  // namespace
}  // namespace cnm
