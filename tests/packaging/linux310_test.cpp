// CentOS/RHEL 7's kernel (3.10) has none of the system calls added since (getrandom, statx,
// clone3, rseq, close_range, faccessat2...). The static binaries carry a glibc that uses them
// when it can: each must fall back. run-with-linux-3.10-syscalls (linux310.cpp, a seccomp
// filter) answers ENOSYS to every one of them; the preflight, config enable, install and
// uninstall must give the same results under it as without it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/installer/tree_snapshot.h"
#include "tests/support/test_support.h"

namespace cnm::test {
namespace {

std::string me() { return std::to_string(::getuid()) + ":" + std::to_string(::getgid()); }

class Linux310 : public ::testing::Test {
 protected:
  // The same steps on a fresh root, with or without the 3.10 surface; the root's name is the
  // same for both (replaced in the outputs) so their reports compare byte for byte.
  struct Outcome {
    std::vector<std::pair<int, std::string>> steps;  // exit code, stdout
    Tree tree;
  };
  Outcome run_steps(bool old_kernel) {
    TempDir dir;
    const auto root = dir / "root";
    write_file(root / "etc/group", "root:x:0:\ndd-agent:x:" + std::to_string(::getgid()) + ":\n");
    write_file(root / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    Outcome o;
    const std::vector<std::vector<std::string>> steps = {
        {"preflight", "--json"},
        {"preflight", "--json", "--root", source_dir() / "tests/checks/hosts/centos-7.6"},
        {"config", "enable", "--owner", me(), "--json", "--root", root},
        {"install", "--archive", CNM_RELEASE_ARCHIVE, "--service-manager", "none", "--owner", me(),
         "--json", "--root", root},
        {"status", "--service-manager", "none", "--json", "--root", root},
        {"uninstall", "--service-manager", "none", "--json", "--root", root},
    };
    for (const auto& step : steps) {
      std::vector<std::string> argv;
      if (old_kernel) argv.push_back(LINUX310_PATH);
      argv.push_back(CNMCTL_PATH);
      argv.insert(argv.end(), step.begin(), step.end());
      auto r = run(argv);
      EXPECT_EQ(r.err.find("Function not implemented"), std::string::npos) << r.err;
      std::string out = r.out;
      for (auto p = out.find(root.string()); p != std::string::npos; p = out.find(root.string()))
        out.replace(p, root.string().size(), "ROOT");
      o.steps.emplace_back(r.exit_code, out);
      if (step[0] == "install") o.tree = snapshot(root);
    }
    return o;
  }
};

TEST_F(Linux310, CnmctlGivesTheSameResultsWithoutTheSystemCallsAddedSince) {
  const auto now = run_steps(false);
  const auto old = run_steps(true);
  ASSERT_EQ(now.steps.size(), old.steps.size());
  for (std::size_t i = 0; i < now.steps.size(); ++i) {
    EXPECT_EQ(old.steps[i].first, now.steps[i].first) << "step " << i << ": " << old.steps[i].second;
    EXPECT_EQ(old.steps[i].second, now.steps[i].second) << "step " << i;
  }
  EXPECT_EQ(now.steps[3].first, 0) << now.steps[3].second;  // the install did happen
  EXPECT_FALSE(now.tree.empty());
  EXPECT_EQ(old.tree, now.tree);
}

TEST_F(Linux310, TheLauncherReallyRemovesThem) {
  // getrandom (3.17) must fail inside, bpf (3.18, backported to RHEL 7.6) must not be refused
  // as missing.
  const auto r = run({LINUX310_PATH, "python3", "-c",
                      "import os, ctypes, errno\n"
                      "libc = ctypes.CDLL(None, use_errno=True)\n"
                      "print(libc.syscall(318, None, 0, 0), ctypes.get_errno() == errno.ENOSYS)\n"
                      "print(libc.syscall(321, 99, None, 0), ctypes.get_errno() != errno.ENOSYS)\n"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "-1 True\n-1 True\n");
}

}  // namespace
}  // namespace cnm::test
