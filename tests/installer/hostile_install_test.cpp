// The installer against hostile roots and faults, as a real cnmctl process: links among the
// parents of what it writes (followed inside --root only, with openat2 and with the portable
// walk of kernels before 5.6), FIFOs and devices where it reads, YAML that expands without end,
// a write failing midway (records must say what is on disk), and kill -9 at random moments
// (nothing of a killed run may survive the next one).
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "installer/sha256.h"
#include "tests/installer/tree_snapshot.h"
#include "tests/support/test_support.h"

namespace cnm {
std::string billion_laughs();  // below
namespace {

std::string me() { return std::to_string(::getuid()) + ":" + std::to_string(::getgid()); }

std::string quote(const std::string& s) { return "'" + s + "'"; }

class HostileRoot : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    test::write_file(root() / "etc/group",
                     "root:x:0:\ndd-agent:x:" + std::to_string(::getgid()) + ":\n");
    test::write_file(root() / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    std::filesystem::create_directories(tmp());
  }
  std::filesystem::path root() const { return dir_.path() / "root"; }
  std::filesystem::path outside() const { return dir_.path() / "outside"; }
  std::filesystem::path tmp() const { return dir_.path() / "tmp"; }
  // cnmctl with the test's TMPDIR, the resolution under test, and a time limit (exit 124).
  test::RunResult ctl(const std::string& args, const std::string& prefix = "") {
    const std::string env = "TMPDIR=" + quote(tmp().string()) +
                            (GetParam() ? " CNMKIT_NO_OPENAT2=1" : "") + " CNMKIT_LOCK_TIMEOUT=5";
    return test::sh(env + " " + prefix + " timeout -s KILL 60 " + test::cnmctl() + " " + args +
                    " --root " + quote(root().string()));
  }
  std::string install_args() const {
    return std::string("install --archive ") + CNM_RELEASE_ARCHIVE +
           " --service-manager none --owner " + me() + " --json";
  }
  test::TempDir dir_;
};

// root/opt, root/etc/datadog-agent and root/var/lib/cnmkit are absolute links to a folder
// outside: as in a chroot they name root/<that folder>, and nothing outside is written.
TEST_P(HostileRoot, LinkedParentFoldersAreFollowedInsideTheRootOnly) {
  for (const char* sub : {"opt", "etc/datadog-agent", "var/lib/cnmkit"}) {
    const auto out = outside() / sub;
    std::filesystem::create_directories(out);
    std::filesystem::create_directories((root() / sub).parent_path());
    std::filesystem::create_directory_symlink(out, root() / sub);
    std::filesystem::create_directories(root() / out.relative_path());
  }
  const auto outside_before = test::snapshot(outside());
  const auto r = ctl(install_args());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(test::tree_diff(outside_before, test::snapshot(outside())), "");
  const auto inside = root() / outside().relative_path();
  // (the policy module is in every build's archive; the probe binary not in the ASan tree's)
  EXPECT_TRUE(std::filesystem::is_regular_file(
      inside / "opt/datadog-agent/embedded/share/system-probe/selinux/system_probe_policy.pp"));
  EXPECT_TRUE(std::filesystem::is_regular_file(inside / "etc/datadog-agent/system-probe.yaml"));
  EXPECT_TRUE(std::filesystem::is_regular_file(inside / "var/lib/cnmkit/state.json"));
  const auto u = ctl("uninstall");
  ASSERT_EQ(u.exit_code, 0) << u.err;
  EXPECT_EQ(test::tree_diff(outside_before, test::snapshot(outside())), "");
  EXPECT_FALSE(std::filesystem::exists(inside / "opt/datadog-agent/embedded"));
}

// A relative link climbing out with "..": stopped at the root.
TEST_P(HostileRoot, DotDotInALinkStopsAtTheRoot) {
  std::filesystem::create_directories(outside() / "etc/datadog-agent");
  std::filesystem::create_directories(root() / "etc");
  std::string up;
  for (auto p = root(); p != p.root_path(); p = p.parent_path()) up += "../";
  std::filesystem::create_directory_symlink(
      up + outside().relative_path().string() + "/etc/datadog-agent", root() / "etc/datadog-agent");
  std::filesystem::create_directories(root() / outside().relative_path() / "etc/datadog-agent");
  const auto r = ctl("config enable --owner " + me());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(outside() / "etc/datadog-agent"));
}

TEST_P(HostileRoot, ArchiveGivenAFifoIsRefusedAtOnceAndReleasesTheLock) {
  ASSERT_EQ(::mkfifo((dir_ / "release.tar.gz").c_str(), 0644), 0);
  auto r = ctl("install --service-manager none --owner " + me() + " --archive " +
               quote((dir_ / "release.tar.gz").string()));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("is a FIFO, not a regular file"), std::string::npos) << r.err;
  r = ctl(install_args());  // the lock is free
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_P(HostileRoot, GroupFileAsAFifoIsAnErrorNotAHang) {
  std::filesystem::remove(root() / "etc/group");
  ASSERT_EQ(::mkfifo((root() / "etc/group").c_str(), 0644), 0);
  const auto r = ctl("config enable");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("etc/group is a FIFO"), std::string::npos) << r.err;
}

TEST_P(HostileRoot, BillionLaughsConfigIsRefusedQuickly) {
  test::write_file(root() / "etc/datadog-agent/system-probe.yaml", billion_laughs());
  const auto before = test::snapshot(root(), "var");
  const auto r = ctl("config enable --owner " + me());
  EXPECT_EQ(r.exit_code, 1) << r.err;  // 124/killed when it expands the aliases
  EXPECT_NE(r.err.find("aliases"), std::string::npos) << r.err;
  EXPECT_EQ(test::tree_diff(before, test::snapshot(root(), "var")), "");
}

// A write that fails midway (here: the config grew past the file-size limit the run gets,
// EFBIG, as ENOSPC would) rolls back, and the records say what is on disk: uninstall then finds
// no "edit" to keep. The limit lets the release's largest file (the static probe, ~5 MB) be
// staged and fails only the 8 MB config.
TEST_P(HostileRoot, AFailedWriteLeavesRecordsThatMatchTheDisk) {
  const auto config = root() / "etc/datadog-agent/system-probe.yaml";
  test::write_file(config,
                   "network_config:\n  enabled: false\n" + std::string(8 << 20, '#') + "\n");
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  const auto state = test::read_file(root() / "var/lib/cnmkit/state.json");
  const auto tree = test::snapshot(root());
  const auto r = ctl(install_args() + " --set network_config.dns_monitoring=true",
                     "trap '' XFSZ; exec prlimit --fsize=7000000");
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out)["rolled_back"].get<bool>());
  EXPECT_EQ(test::read_file(root() / "var/lib/cnmkit/state.json"), state);
  EXPECT_EQ(test::tree_diff(tree, test::snapshot(root())), "");
  const auto u = ctl("uninstall --json");
  ASSERT_EQ(u.exit_code, 0) << u.err;
  EXPECT_TRUE(nlohmann::json::parse(u.out)["saved"].empty()) << u.out;
}

// What cnmkit left (temp files next to the files it records, unlocked staging folders) goes;
// what merely looks alike, and a live run's staging folder, stay.
TEST_P(HostileRoot, TheNextRunRemovesWhatAKilledRunLeftAndNothingElse) {
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  const auto bin_dir = root() / "opt/datadog-agent/embedded/share/system-probe/selinux";
  test::write_file(bin_dir / ".system_probe_policy.pp.cnmkit-AbC123", "half");
  test::write_file(root() / "var/lib/cnmkit/.state.json.cnmkit-xYz789", "half");
  test::write_file(bin_dir / ".system_probe_policy.pp.other-AbC123", "not ours");
  test::write_file(bin_dir / ".unrelated.cnmkit-AbC123", "not a file cnmkit writes");
  std::filesystem::create_directories(tmp() / "cnmkit-release-Stale1/bin");
  test::write_file(tmp() / "cnmkit-release-Stale1/bin/system-probe", "staged");
  std::filesystem::create_directories(tmp() / "cnmkit-release-Live01");
  const int live = ::open((tmp() / "cnmkit-release-Live01").c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_EQ(::flock(live, LOCK_EX), 0);  // as a running cnmctl holds its own
  const auto r = ctl(install_args());
  ::close(live);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(bin_dir / ".system_probe_policy.pp.cnmkit-AbC123"));
  EXPECT_FALSE(std::filesystem::exists(root() / "var/lib/cnmkit/.state.json.cnmkit-xYz789"));
  EXPECT_FALSE(std::filesystem::exists(tmp() / "cnmkit-release-Stale1"));
  EXPECT_TRUE(std::filesystem::exists(bin_dir / ".system_probe_policy.pp.other-AbC123"));
  EXPECT_TRUE(std::filesystem::exists(bin_dir / ".unrelated.cnmkit-AbC123"));
  EXPECT_TRUE(std::filesystem::exists(tmp() / "cnmkit-release-Live01"));
}

// Every file under `dir` whose name is a cnmkit temp file name.
std::vector<std::string> temp_files(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    const auto n = e.path().filename().string();
    if ((n.front() == '.' && n.find(".cnmkit-") != std::string::npos &&
         n.find(".cnmkit-save") == std::string::npos) ||
        n.rfind("cnmkit-release-", 0) == 0)
      out.push_back(e.path().string());
  }
  return out;
}

// kill -9 at random moments of an install (reading the archive, writing files, saving state),
// then a normal run: it succeeds, no temp file or staging folder survives, every record holds
// the hash of what is on disk, and uninstall gives back the original tree.
TEST_P(HostileRoot, KilledAtRandomMomentsLeavesNothingAfterTheNextRun) {
  test::write_file(root() / "etc/datadog-agent/system-probe.yaml", "network_config: {}\n");
  const auto original = test::snapshot(root());
  std::mt19937 rng(GetParam() ? 15 : 51);  // fixed: a failure reproduces
  int killed = 0;
  for (int round = 0; round < 24; ++round) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::setenv("TMPDIR", tmp().c_str(), 1);
      if (GetParam()) ::setenv("CNMKIT_NO_OPENAT2", "1", 1);
      const std::string r = root().string();
      const std::string m = me();
      ::execl(
          test::cnmctl().c_str(), "cnmctl", "install", "--archive", CNM_RELEASE_ARCHIVE,
          "--service-manager", "none", "--owner", m.c_str(), "--set",
          round % 2 ? "network_config.dns_monitoring=true" : "network_config.dns_monitoring=false",
          "--root", r.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 60000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    killed += WIFSIGNALED(status);
    const auto again = ctl(install_args());
    ASSERT_EQ(again.exit_code, 0) << "round " << round << ": " << again.err;
    EXPECT_EQ(temp_files(root()), std::vector<std::string>{}) << "round " << round;
    EXPECT_EQ(temp_files(tmp()), std::vector<std::string>{}) << "round " << round;
    const auto state = nlohmann::json::parse(test::read_file(root() / "var/lib/cnmkit/state.json"));
    for (const auto& f : state["files"]) {
      EXPECT_FALSE(f.contains("pending_sha256")) << f.dump();
      const auto p = root() / f["path"].get<std::string>().substr(1);
      EXPECT_EQ(f.value("sha256", ""), sha256_hex(test::read_file(p))) << f.dump();
    }
  }
  EXPECT_GE(killed, 12);
  ASSERT_EQ(ctl("uninstall").exit_code, 0);
  EXPECT_EQ(test::tree_diff(original, test::snapshot(root())), "");
}

INSTANTIATE_TEST_SUITE_P(Resolution, HostileRoot, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "PortableWalk" : "Openat2";
                         });

}  // namespace

// Nine levels of nine aliases: 553 bytes that stand for 10^9 nodes.
std::string billion_laughs() {
  std::string y =
      "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    y += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 9; ++i) y += std::string(i ? ",*" : "*") + static_cast<char>(c - 1);
    y += "]\n";
  }
  return y;
}

}  // namespace cnm
