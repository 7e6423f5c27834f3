// cnmctl preflight against hostile --root folders, as a process with a time limit: links that
// would read the real host, FIFOs and devices where host files should be, unreadable files and
// escape sequences in them. The preflight must finish, judge the root's own files, say what it
// could not read and why, and never print a control character it read from the host.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace cnm {
namespace {

class HostileHost : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    test::write_file(root() / "proc/sys/kernel/osrelease", "5.10.0-21-amd64\n");
    test::write_file(root() / "proc/self/mountinfo",
                     "21 1 0:20 / /proc rw,nosuid - proc proc rw\n");
  }
  std::filesystem::path root() const { return dir_.path() / "root"; }
  test::RunResult preflight(const std::string& args = "--json") {
    return test::sh(std::string(GetParam() ? "CNMKIT_NO_OPENAT2=1 " : "") + "timeout -s KILL 30 " +
                    test::cnmctl() + " preflight " + args + " --root '" + root().string() + "'");
  }
  nlohmann::json check(const nlohmann::json& report, const std::string& id) {
    for (const auto& c : report["checks"])
      if (c["id"] == id) return c;
    return {};
  }
  test::TempDir dir_;
};

// A Debian 8 root whose etc/os-release is an absolute link to /usr/lib/os-release: the root's
// file, not this Debian 12 host's.
TEST_P(HostileHost, AbsoluteLinkToOsReleaseReadsTheRootsFile) {
  test::write_file(root() / "usr/lib/os-release",
                   "PRETTY_NAME=\"Debian GNU/Linux 8 (jessie)\"\nID=debian\nVERSION_ID=\"8\"\n");
  std::filesystem::create_directories(root() / "etc");
  std::filesystem::create_symlink("/usr/lib/os-release", root() / "etc/os-release");
  const auto r = preflight();
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["host"]["distro_version"], "8");
  EXPECT_EQ(check(j, "distro.supported")["status"], "fail");
}

TEST_P(HostileHost, MountTableAsAFifoEndsTheRunWithTheReason) {
  std::filesystem::remove(root() / "proc/self/mountinfo");
  ASSERT_EQ(::mkfifo((root() / "proc/self/mountinfo").c_str(), 0644), 0);
  const auto r = preflight();
  ASSERT_NE(r.exit_code, 137) << "hung on the FIFO";
  const auto c = check(nlohmann::json::parse(r.out), "mounts.tracefs");
  EXPECT_EQ(c["status"], "skip");
  EXPECT_NE(c["message"].get<std::string>().find("is a FIFO"), std::string::npos) << c;
}

// Unreadable is reported as unreadable (run as nobody where the test is root).
TEST_P(HostileHost, UnreadableOsReleaseIsNotReportedMissing) {
  test::write_file(root() / "etc/os-release", "ID=debian\nVERSION_ID=12\n");
  ::chmod((root() / "etc/os-release").c_str(), 0);
  std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
  const std::string as =
      ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  const auto r = test::sh(as + std::string(GetParam() ? "env CNMKIT_NO_OPENAT2=1 " : "") +
                          test::cnmctl() + " preflight --json --root '" + root().string() + "'");
  const auto c = check(nlohmann::json::parse(r.out), "distro.supported");
  EXPECT_NE(
      c["message"].get<std::string>().find("/etc/os-release is unreadable (Permission denied)"),
      std::string::npos)
      << c;
}

// cnmkit's install record (state.json, common/host_record.h) as a FIFO, a link out of the root
// or damaged: the preflight, which reads it for the install's layout, still answers (it does
// not depend on the record), and says in its `probe` part why the record was not compared,
// without hanging or following the link.
TEST_P(HostileHost, AnInstallRecordThatIsNotOneIsNotedAndTheAnswerGiven) {
  const auto state = root() / "var/lib/cnmkit/state.json";
  std::filesystem::create_directories(state.parent_path());
  const auto noted = [&](const std::string& why) {
    const auto r = preflight();
    ASSERT_NE(r.exit_code, 137) << "hung";
    EXPECT_NE(r.exit_code, 2) << r.out << r.err;
    const auto notes = nlohmann::json::parse(r.out, nullptr, false)["probe"]["notes"];
    EXPECT_NE(notes.dump().find("state.json " + why), std::string::npos) << notes << r.err;
  };
  ASSERT_EQ(::mkfifo(state.c_str(), 0600), 0);
  noted("is a FIFO");
  std::filesystem::remove(state);
  std::filesystem::create_symlink("/etc/passwd", state);
  noted("is a symbolic link");
  std::filesystem::remove(state);
  test::write_file(state, "{\"files\": [], \"dirs\": [], \"mode\": \"sideways\"}\n");
  noted("is damaged");
  // A layout this cnmctl cannot read (a key of a newer one).
  test::write_file(state,
                   "{\"files\": [], \"dirs\": [], \"mode\": \"cnmkit\", "
                   "\"layout\": \"cnmkit:\\n  probe_color: blue\\n\"}\n");
  const auto r = preflight("--json --probe cnmkit");
  EXPECT_NE(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("unknown or non-scalar key 'probe_color'"), std::string::npos) << r.out;
}

// A record this user may not read (root's, 0600, as the installer writes it; the test runs
// as nobody where it is root) is not compared: the preflight still answers, and says so.
TEST_P(HostileHost, AnInstallRecordThisUserMayNotReadLeavesTheAnswer) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root can make a file nobody may read here";
  const auto state = root() / "var/lib/cnmkit/state.json";
  test::write_file(state,
                   "{\"files\": [], \"dirs\": [], \"mode\": \"cnmkit\", "
                   "\"layout\": \"cnmkit:\\n  config_dir: /etc/netmon\\n\"}\n");
  ::chmod(state.c_str(), 0600);
  std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
  const auto run = [&](const std::string& as) {
    return test::sh(as + std::string(GetParam() ? "env CNMKIT_NO_OPENAT2=1 " : "") +
                    test::cnmctl() + " preflight --json --probe cnmkit --root '" + root().string() +
                    "'");
  };
  auto r = run("setpriv --reuid=65534 --regid=65534 --clear-groups ");
  EXPECT_NE(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out, nullptr, false).contains("verdict")) << r.out;
  const auto notes = nlohmann::json::parse(r.out, nullptr, false)["probe"]["notes"].dump();
  EXPECT_NE(notes.find("state.json cannot be read: Permission denied"), std::string::npos) << notes;
  // The same record read by root: another layout than the defaults, refused.
  r = run("");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("config_dir: /etc/netmon"), std::string::npos) << r.err;
}

// Escape sequences and invalid UTF-8 in host files never reach the terminal raw.
TEST_P(HostileHost, TextReportEscapesControlCharactersAndInvalidUtf8) {
  test::write_file(root() / "etc/os-release",
                   "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Evil\x1b]0;pwned\x07\x1b[2J\xff\xfe"
                   "OS\"\n");
  test::write_file(root() / "proc/sys/kernel/osrelease", "5.10.0\x1b[31m-red\n");
  const auto r = preflight("");
  for (const unsigned char ch : r.out)
    EXPECT_TRUE(ch == '\n' || ch >= 0x20) << "control byte " << int(ch) << " in:\n" << r.out;
  EXPECT_NE(r.out.find("Evil\\x1b]0;pwned\\x07\\x1b[2J"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\xff'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Resolution, HostileHost, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "PortableWalk" : "Openat2";
                         });

}  // namespace
}  // namespace cnm
