#include "common/host_fs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/support/test_support.h"

namespace cnm {
namespace {

TEST(HostFs, ReadsBoundedAndFlagsTruncation) {
  test::TempDir d;
  test::write_file(d / "etc/big", std::string(200000, 'x'));
  const HostFs fs(d.path());
  const auto t = fs.read("/etc/big", 1000);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->text.size(), 1000u);
  EXPECT_TRUE(t->truncated);
  EXPECT_FALSE(fs.read("/etc/none"));
  EXPECT_FALSE(fs.is_live());
}

TEST(HostFs, RefusesNonRegularFilesWithoutBlocking) {
  test::TempDir d;
  std::filesystem::create_directories(d / "etc");
  ASSERT_EQ(::mkfifo((d / "etc/os-release").c_str(), 0644), 0);
  const HostFs fs(d.path());
  EXPECT_FALSE(fs.read("/etc/os-release"));  // a FIFO must not hang the reader
  EXPECT_FALSE(fs.read("/etc"));             // nor is a folder a file
}

TEST(HostFs, DescribesOnlyFoldersThatExistUnderRoot) {
  test::TempDir d;
  std::filesystem::create_directories(d / "sys/kernel");
  const HostFs fs(d.path());
  EXPECT_TRUE(fs.describes("/sys/kernel"));
  EXPECT_FALSE(fs.describes("/proc"));
  EXPECT_TRUE(HostFs("/").describes("/proc"));
}

// A check asks whether a host file is there to use it: a dangling link, or one that loops once
// resolved inside the root (an absolute link to itself), is nothing; a link inside the root to
// a file is the file, and one that leads out of the root is resolved inside it.
TEST(HostFs, ExistsFollowsLinksInsideTheRootAndDanglingOrLoopingIsAbsent) {
  test::TempDir d, outside;
  test::write_file(outside / "vmlinux", "BTF");
  test::write_file(d / "sys/kernel/real", "x");
  std::filesystem::create_symlink("/sys/kernel/loop", d / "sys/kernel/loop");
  std::filesystem::create_symlink("/sys/kernel/none", d / "sys/kernel/dangling");
  std::filesystem::create_symlink("/sys/kernel/real", d / "sys/kernel/good");
  std::filesystem::create_symlink(outside / "vmlinux", d / "sys/kernel/out");
  const HostFs fs(d.path());
  EXPECT_FALSE(fs.exists("/sys/kernel/loop"));
  EXPECT_FALSE(fs.exists("/sys/kernel/dangling"));
  EXPECT_FALSE(fs.exists("/sys/kernel/out"));  // outside's path does not exist in the root
  EXPECT_FALSE(fs.dir().is_file("/sys/kernel/out"));
  EXPECT_TRUE(fs.exists("/sys/kernel/good"));
  EXPECT_TRUE(fs.dir().is_file("/sys/kernel/good"));
  EXPECT_TRUE(fs.exists("/sys/kernel"));
  EXPECT_FALSE(fs.dir().is_file("/sys/kernel"));
}

}  // namespace
}  // namespace cnm
