// cnmctl preflight with host files that are links to endless devices (/dev/zero,
// /dev/urandom) inside the root: refused by type, never read. Root: the root gets real device
// nodes (mknod), and a test that cannot make them fails rather than pass without checking.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace cnm {
namespace {

// Links to endless devices: the root gets real device nodes (mknod needs root; a test that
// cannot make them fails rather than pass without checking).
TEST(HostileHostDevices, MountTableAndOsReleaseOnEndlessDevicesAreRefused) {
  ASSERT_EQ(::geteuid(), 0u) << "mknod of /dev/zero and /dev/urandom in the root needs root";
  test::TempDir d;
  const auto root = d / "root";
  std::filesystem::create_directories(root / "dev");
  ASSERT_EQ(::mknod((root / "dev/zero").c_str(), S_IFCHR | 0666, makedev(1, 5)), 0);
  ASSERT_EQ(::mknod((root / "dev/urandom").c_str(), S_IFCHR | 0666, makedev(1, 9)), 0);
  test::write_file(root / "proc/sys/kernel/osrelease", "5.10.0-21-amd64\n");
  std::filesystem::create_directories(root / "proc/self");
  std::filesystem::create_directories(root / "etc");
  std::filesystem::create_symlink("/dev/zero", root / "proc/self/mountinfo");
  std::filesystem::create_symlink("/dev/urandom", root / "etc/os-release");
  const auto r = test::sh("timeout -s KILL 30 " + test::cnmctl() + " preflight --json --root '" +
                          root.string() + "'");
  ASSERT_NE(r.exit_code, 137) << "spun on the device";
  const auto j = nlohmann::json::parse(r.out);
  for (const auto& c : j["checks"]) {
    if (c["id"] == "mounts.tracefs" || c["id"] == "distro.supported") {
      EXPECT_NE(c["message"].get<std::string>().find("is a character device"), std::string::npos)
          << c;
    }
  }
}

}  // namespace
}  // namespace cnm
