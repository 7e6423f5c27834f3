// The bearer token: created 0600 and random when absent, read back trimmed, compared exactly.
#include "probe/auth_token.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/support/test_support.h"

namespace cnm::probe {
namespace {

TEST(AuthToken, CreatedWhenAbsentWithMode0600AndRandom) {
  test::TempDir dir;
  const auto a = load_or_create_token(dir / "sub/auth_token");
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "sub/auth_token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Read back, not regenerated.
  EXPECT_EQ(load_or_create_token(dir / "sub/auth_token"), a);
  test::TempDir other;
  EXPECT_NE(load_or_create_token(other / "auth_token"), a);
}

TEST(AuthToken, ExistingTokenIsTrimmedAndEmptyIsAnError) {
  test::TempDir dir;
  const std::string token = "s3cret-token-" + std::string(kMinTokenChars - 13, 'x');
  test::write_file(dir / "t", "  " + token + "\n");
  EXPECT_EQ(load_or_create_token(dir / "t"), token);
  test::write_file(dir / "empty", " \n");
  EXPECT_THROW(load_or_create_token(dir / "empty"), std::runtime_error);
  EXPECT_EQ(test::read_file(dir / "empty"), " \n");  // nothing lost
}

TEST(AuthToken, ShortTokenIsRefusedWithTheMinimum) {
  test::TempDir dir;
  test::write_file(dir / "one", "x\n");
  try {
    load_or_create_token(dir / "one");
    ADD_FAILURE() << "a 1-character token was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("1 characters; at least 32 are required"),
              std::string::npos)
        << e.what();
  }
  test::write_file(dir / "short", std::string(kMinTokenChars - 1, 'a'));
  EXPECT_THROW(load_or_create_token(dir / "short"), std::runtime_error);
  test::write_file(dir / "enough", std::string(kMinTokenChars, 'a'));
  EXPECT_EQ(load_or_create_token(dir / "enough"), std::string(kMinTokenChars, 'a'));
}

TEST(AuthToken, BearerMatching) {
  EXPECT_TRUE(bearer_matches("Bearer abc", "abc"));
  EXPECT_FALSE(bearer_matches("Bearer abd", "abc"));
  EXPECT_FALSE(bearer_matches("Bearer abcd", "abc"));
  EXPECT_FALSE(bearer_matches("Bearer ab", "abc"));
  EXPECT_FALSE(bearer_matches("bearer abc", "abc"));
  EXPECT_FALSE(bearer_matches("abc", "abc"));
  EXPECT_FALSE(bearer_matches("", "abc"));
  EXPECT_FALSE(bearer_matches("Bearer ", ""));
}

// The token file read bounded and without blocking: a link to /dev/zero (which took the
// daemon to 24 GB), a FIFO (a hang) and an oversized file are errors naming what they are.
TEST(AuthToken, EndlessDevicesFifosAndHugeFilesAreRefused) {
  test::TempDir d;
  std::filesystem::create_symlink("/dev/zero", d / "zero");
  ASSERT_EQ(::mkfifo((d / "fifo").c_str(), 0600), 0);
  test::write_file(d / "huge", std::string(1 << 20, 'a'));
  for (const char* name : {"zero", "fifo", "huge"}) {
    try {
      load_or_create_token(d / name);
      ADD_FAILURE() << name << " was accepted";
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      EXPECT_TRUE(what.find("not a regular file") != std::string::npos ||
                  what.find("larger than") != std::string::npos)
          << name << ": " << what;
    }
  }
}

}  // namespace
}  // namespace cnm::probe
