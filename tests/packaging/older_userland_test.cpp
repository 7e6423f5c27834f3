// A real older userland: Debian 11 (glibc 2.31), debootstrapped from the configured mirror and
// cached (tests/support/make_bullseye_root.sh), entered like the SysV host (private mount and
// PID namespaces, chroot). The package installs with bullseye's dpkg; cnmctl preflight, config
// enable, install --service-manager none and uninstall run; the installed cnm-probe loads its
// programs on the live kernel and answers /health. Built on Debian 12, a dynamically linked
// cnmctl would not start there (GLIBC_2.34 not found). Needs root; fails without it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/support/debian_root.h"

namespace cnm::test {
namespace {

std::string result(const std::filesystem::path& dir, const std::string& name) {
  return trimmed(read_file(dir / name));
}

TEST(OlderUserland, Debian11RunsThePackageAndTheProbe) {
  ASSERT_EQ(::geteuid(), 0u) << "needs root (overlay, namespaces, chroot, eBPF)";
  const DebianRootOverlay host(kBullseyeRoot);
  ASSERT_EQ(host.error(), "");
  const auto& root = host.root();
  const auto& results = host.results();
  std::filesystem::copy_file(source_dir() / "tests/packaging/bullseye/inside.sh",
                             root / "usr/local/sbin/cnmkit-bullseye-test");
  const auto r = run({"timeout", "120", "unshare", "--mount", "--pid", "--fork", "--kill-child",
                      "--propagation", "private", "bash",
                      (source_dir() / "tests/installer/sysv/enter.sh").string(), root.string(),
                      results.string(), "/usr/local/sbin/cnmkit-bullseye-test"});
  const auto log = read_file(results / "log.txt");
  ASSERT_TRUE(std::filesystem::exists(results / "finished")) << r.out << r.err << log;
  EXPECT_NE(result(results, "glibc.txt").find("2.31"), std::string::npos) << "not bullseye";
  EXPECT_EQ(result(results, "dpkg.rc"), "0") << log;

  EXPECT_EQ(result(results, "preflight.rc"), "0") << log;
  const auto pre = json_file(results / "preflight.json");
  EXPECT_EQ(pre["host"]["distro_id"], "debian") << pre.dump(2);
  EXPECT_EQ(pre["host"]["distro_version"], "11");
  EXPECT_EQ(pre["host"]["libc"]["version"], "2.31");

  EXPECT_EQ(result(results, "config.rc"), "0") << read_file(results / "config.json");
  EXPECT_EQ(result(results, "install.rc"), "0") << read_file(results / "install.json");
  const auto status = json_file(results / "status.json");
  EXPECT_EQ(status["health"]["ok"], true) << status.dump(2) << read_file(results / "probe.log");
  EXPECT_EQ(result(results, "uninstall.rc"), "0") << read_file(results / "uninstall.json");
}

}  // namespace
}  // namespace cnm::test
