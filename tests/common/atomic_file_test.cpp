#include "common/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/support/test_support.h"

namespace cnm {
namespace {

TEST(AtomicWrite, ReplacesContentAndModeLeavingNoTempFiles) {
  test::TempDir d;
  test::write_file(d / "f", "old");
  atomic_write(d / "f", "new content", 0640);
  EXPECT_EQ(test::read_file(d / "f"), "new content");
  struct stat st {};
  ASSERT_EQ(::stat((d / "f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(d.path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(AtomicWrite, FailureLeavesTargetUntouched) {
  test::TempDir d;
  // The target's folder does not exist: nothing can be written, and the error names the path.
  try {
    atomic_write(d / "missing/f", "x", 0600);
    FAIL() << "write into a missing folder succeeded";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(d / "missing"));
}

}  // namespace
}  // namespace cnm
