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

}  // namespace
}  // namespace cnm
