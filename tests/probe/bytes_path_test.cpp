// Bytes handed to libbpf by path (probe/bytes_path.h): through a memory file, and through the
// temp file that kernels without memfd_create (before 3.17) and hosts without /proc get, chosen
// here by the `first` parameter (this kernel has both). Each path holds the very bytes and is
// given up with its holder.
#include "probe/bytes_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "tests/support/test_support.h"

namespace cnm::probe {
namespace {

// Made of every byte value, NULs included.
std::string some_bytes() {
  std::string s;
  for (int i = 0; i < 3000; ++i) s.push_back(static_cast<char>(i * 7));
  return s;
}

std::span<const std::byte> as_span(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// $TMPDIR for one scope (the temp file goes there).
class TmpdirFor {
 public:
  explicit TmpdirFor(const std::string& dir) {
    if (const char* old = std::getenv("TMPDIR")) old_ = old;
    ::setenv("TMPDIR", dir.c_str(), 1);
  }
  ~TmpdirFor() {
    if (old_)
      ::setenv("TMPDIR", old_->c_str(), 1);
    else
      ::unsetenv("TMPDIR");
  }

 private:
  std::optional<std::string> old_;
};

TEST(BytesPath, AMemoryFileHoldsTheBytesUntilItsHolderDies) {
  const std::string bytes = some_bytes();
  std::string path;
  {
    auto held = BytesPath::hold(as_span(bytes), "cnm-test");
    ASSERT_TRUE(held);
    EXPECT_EQ(held->holder(), BytesPath::Holder::kMemoryFile);
    path = held->path();
    EXPECT_EQ(path.rfind("/proc/self/fd/", 0), 0U) << path;
    EXPECT_EQ(test::read_file(path), bytes);
    // Moved, it is still open: the new holder has it.
    BytesPath moved = std::move(*held);
    held.reset();
    EXPECT_EQ(test::read_file(moved.path()), bytes);
  }
  EXPECT_FALSE(exists(path)) << "the memory file is still open";
}

TEST(BytesPath, WithoutAMemoryFileAPrivateTempFileIsRemovedWithItsHolder) {
  const std::string bytes = some_bytes();
  test::TempDir dir;
  const TmpdirFor tmp(dir.path().string());
  std::string path;
  {
    auto held = BytesPath::hold(as_span(bytes), "cnm-test", BytesPath::Holder::kTempFile);
    ASSERT_TRUE(held);
    EXPECT_EQ(held->holder(), BytesPath::Holder::kTempFile);
    path = held->path();
    EXPECT_EQ(path.rfind((dir / "cnm-test-").string(), 0), 0U) << path;
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600U) << "the file is the probe's alone";
    EXPECT_EQ(test::read_file(path), bytes);
    BytesPath moved = std::move(*held);
    held.reset();
    EXPECT_TRUE(exists(path)) << "a moved-from holder removed the file the new one holds";
    EXPECT_EQ(test::read_file(moved.path()), bytes);
  }
  EXPECT_FALSE(exists(path)) << "the temp file outlived its holder";
}

TEST(BytesPath, NoPlaceForTheBytesIsNoPath) {
  test::TempDir dir;
  const TmpdirFor tmp((dir / "absent").string());
  EXPECT_FALSE(BytesPath::hold(as_span(some_bytes()), "cnm-test", BytesPath::Holder::kTempFile));
}

}  // namespace
}  // namespace cnm::probe
