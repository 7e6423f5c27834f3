// `cnmctl install --btf-archive FILE` under --root (--service-manager none): the archive is
// checked whole and installed beside the probe's objects as a planned file (dry run, diff,
// idempotence, uninstall), a damaged, hostile or blocking one changes nothing, and beside the
// Agent it is refused. The BTF inside is real: the files the build embedded.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "probe/btf_archive.h"
#include "probe/embedded_files.h"
#include "tests/installer/tree_snapshot.h"
#include "tests/support/tar_writer.h"
#include "tests/support/test_support.h"

namespace cnm {
namespace {

std::string me() { return std::to_string(::getuid()) + ":" + std::to_string(::getgid()); }

std::string real_btf() {
  const auto releases = probe::embedded_btf_releases();
  if (releases.empty()) throw std::runtime_error("the build embedded no BTF file");
  const auto b = *probe::embedded_btf(releases.front());
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

class BtfArchiveInstall : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_file(root() / "etc/group", "root:x:0:\n");
    test::write_file(root() / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    btf_ = real_btf();
    test::write_tar(archive(),
                    {{"centos/7/x86_64/3.10.0-1160.el7.x86_64.btf", btf_},
                     {"amzn/2/x86_64/4.14.355-275.582.amzn2.x86_64.btf", btf_}},
                    archive_write_add_filter_xz);
  }
  std::filesystem::path root() const { return dir_ / "root"; }
  std::filesystem::path archive() const { return dir_ / "fleet.tar.xz"; }
  std::filesystem::path installed() const {
    return root() / "opt/cnmkit/ebpf/btf" / std::string(probe::kBtfArchiveName);
  }
  test::RunResult install(const std::filesystem::path& btf_archive,
                          std::vector<std::string> more = {}) {
    std::vector<std::string> argv{test::cnmctl(),
                                  "install",
                                  "--archive",
                                  CNM_RELEASE_ARCHIVE,
                                  "--btf-archive",
                                  btf_archive.string(),
                                  "--service-manager",
                                  "none",
                                  "--owner",
                                  me(),
                                  "--json",
                                  "--root",
                                  root().string()};
    argv.insert(argv.end(), more.begin(), more.end());
    return test::run(argv);
  }
  // A refusal: exit 1, the reason, nothing of the host changed.
  void expect_refused(const std::filesystem::path& bad, const std::string& why) {
    SCOPED_TRACE(why);
    const auto before = test::snapshot(root());
    const auto r = install(bad);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing was installed"), std::string::npos) << r.err;
    EXPECT_EQ(test::tree_diff(before, test::snapshot(root())), "");
  }
  test::TempDir dir_;
  std::string btf_;
};

TEST_F(BtfArchiveInstall, InstalledBesideTheObjectsOnceAndRemovedByUninstall) {
  const auto dry = install(archive(), {"--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_FALSE(std::filesystem::exists(installed()));
  bool planned = false;
  const auto plan = nlohmann::json::parse(dry.out);
  for (const auto& a : plan["actions"])
    if (a.value("path", "") == installed().string().substr(root().string().size())) {
      planned = true;
      EXPECT_NE(a["reason"].get<std::string>().find("CO-RE types of 2 kernels"), std::string::npos)
          << a.dump();
    }
  EXPECT_TRUE(planned) << dry.out;

  const auto first = install(archive());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(test::read_file(installed()), test::read_file(archive()));
  struct stat st {};
  ASSERT_EQ(::stat(installed().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);

  const auto before = test::snapshot(root());
  const auto second = install(archive());
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_FALSE(nlohmann::json::parse(second.out)["changed"].get<bool>());
  EXPECT_EQ(test::tree_diff(before, test::snapshot(root())), "");

  // A newer archive replaces it.
  test::write_tar(dir_ / "newer.tar.xz", {{"5.4.0-1-amd64.btf", btf_}},
                  archive_write_add_filter_gzip);
  ASSERT_EQ(install(dir_ / "newer.tar.xz").exit_code, 0);
  EXPECT_EQ(test::read_file(installed()), test::read_file(dir_ / "newer.tar.xz"));

  const auto un = test::run(
      {test::cnmctl(), "uninstall", "--service-manager", "none", "--root", root().string()});
  ASSERT_EQ(un.exit_code, 0) << un.err;
  EXPECT_FALSE(std::filesystem::exists(installed()));
}

TEST_F(BtfArchiveInstall, DamagedHostileOrBlockingArchivesChangeNothing) {
  ASSERT_EQ(install(archive()).exit_code, 0);  // what must survive the refusals
  test::write_file(dir_ / "text", "plain text, no archive at all: nothing libarchive reads\n");
  expect_refused(dir_ / "text", "is not an intact tar archive");
  test::write_tar(dir_ / "link.tar.xz", {{"5.4.0-1.btf", "", AE_IFLNK, "/etc/shadow"}},
                  archive_write_add_filter_xz);
  expect_refused(dir_ / "link.tar.xz", "is not a regular file or a folder");
  std::string not_btf = btf_;
  not_btf[0] = 'X';
  test::write_tar(dir_ / "notbtf.tar.xz", {{"5.4.0-1.btf", not_btf}}, archive_write_add_filter_xz);
  expect_refused(dir_ / "notbtf.tar.xz", "the BTF for 5.4.0-1: not raw BTF");
  test::write_tar(dir_ / "twice.tar.xz", {{"a/5.4.0-1.btf", btf_}, {"b/5.4.0-1.btf", btf_}},
                  archive_write_add_filter_xz);
  expect_refused(dir_ / "twice.tar.xz", "holds the BTF for 5.4.0-1 twice");
  // A FIFO is never opened for a blocking read (the run would hang holding the install lock).
  ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  expect_refused(dir_ / "fifo", "not a regular file");
  EXPECT_EQ(test::read_file(installed()), test::read_file(archive()));
}

// Beside the Agent its system-probe has its own BTF files: asked for with --probe agent, the
// archive is refused; with --probe auto (one fleet setting over hosts of both modes) it is left
// out with a note and the Agent's configuration goes on.
TEST_F(BtfArchiveInstall, BesideTheAgentItIsRefusedOrLeftOutWithANote) {
  test::write_file(root() / "opt/datadog-agent/version-manifest.json",
                   R"({"build_version":"7.50.0"})");
  test::write_file(root() / "etc/group",
                   "root:x:0:\ndd-agent:x:" + std::to_string(::getgid()) + ":\n");
  test::write_file(root() / "etc/datadog-agent/system-probe.yaml", "network_config: {}\n");
  const auto before = test::snapshot(root());
  const auto r = install(archive(), {"--probe", "agent"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--btf-archive is for cnmkit's own probe"), std::string::npos) << r.err;
  EXPECT_EQ(test::tree_diff(before, test::snapshot(root())), "");

  const auto a = install(archive());
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  const auto j = nlohmann::json::parse(a.out);
  EXPECT_EQ(j["probe"], "agent");
  EXPECT_NE(j["notes"].dump().find("BTF archive not installed"), std::string::npos) << a.out;
  EXPECT_NE(test::read_file(root() / "etc/datadog-agent/system-probe.yaml").find("enabled: true"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(installed()));
  EXPECT_FALSE(std::filesystem::exists(root() /
                                       "opt/datadog-agent/embedded/share/system-probe/"
                                       "ebpf/btf" /
                                       std::string(probe::kBtfArchiveName)));
}

}  // namespace
}  // namespace cnm
