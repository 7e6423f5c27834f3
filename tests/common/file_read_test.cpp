// The one bounded reader: never blocks, never reads a non-regular file, never more than its
// limit, and says why a file was not read.
#include "common/file_read.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "common/host_fs.h"
#include "tests/support/test_support.h"

namespace cnm {
namespace {

class Reader : public ::testing::Test {
 protected:
  FileRead read(const std::string& host_path, ReadLimits l = {}) {
    return read_file(RootDir(dir_.path()), host_path, l);
  }
  test::TempDir dir_;
};

TEST_F(Reader, AFifoIsRefusedAtOnceWithoutAWriter) {
  ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0644), 0);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = read("/fifo");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_EQ(r.status, ReadStatus::NotRegular);
  EXPECT_NE(r.why(0).find("is a FIFO"), std::string::npos) << r.why(0);
}

// A socket file cannot be opened at all (ENXIO), so its type is not known: said once.
TEST_F(Reader, ASocketFileIsRefusedInPlainWords) {
  const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(s, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  const std::string path = (dir_ / "sock").string();
  ASSERT_LT(path.size(), sizeof a.sun_path);
  path.copy(a.sun_path, path.size());
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const auto r = read("/sock");
  ::close(s);
  EXPECT_EQ(r.status, ReadStatus::NotRegular);
  EXPECT_EQ(r.why(0), "is not a regular file; not read");
}

TEST_F(Reader, LinksToEndlessDevicesAreRefusedNotRead) {
  for (const char* dev : {"/dev/zero", "/dev/urandom"}) {
    // Through --root the link resolves inside the root: give it a real device there.
    std::filesystem::remove(dir_ / "mounts");
    std::filesystem::create_symlink(dev, dir_ / "mounts");
    EXPECT_EQ(read_file(std::filesystem::path(dir_ / "mounts"), ReadLimits{}).status,
              ReadStatus::NotRegular)
        << dev;
    EXPECT_EQ(read_file(std::filesystem::path(dev), ReadLimits{}).status, ReadStatus::NotRegular);
  }
}

TEST_F(Reader, OverTheLimitTruncatesOrRefusesAsAsked) {
  test::write_file(dir_ / "big", std::string(10000, 'x'));
  const auto t = read("/big", ReadLimits{100, OverLimit::Truncate, true});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.text.size(), 100u);
  EXPECT_TRUE(t.truncated);
  const auto r = read("/big", ReadLimits{100, OverLimit::Refuse, true});
  EXPECT_EQ(r.status, ReadStatus::TooLarge);
  EXPECT_TRUE(r.text.empty());
  EXPECT_THROW(read_whole_file(dir_ / "big", 100, "config"), FileReadError);
}

// A file is held once, in a buffer of its size: a release's probe binary is read whole, and
// the buffer used to grow to twice the file (zero-filled) before the read that found its end.
TEST_F(Reader, AFileIsReadIntoABufferOfItsSize) {
  const std::size_t size = 1u << 20;
  test::write_file(dir_ / "blob", std::string(size, 'x'));
  const auto r = read("/blob", ReadLimits{256u << 20, OverLimit::Refuse, true});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.text.size(), size);
  EXPECT_LE(r.text.capacity(), size + 1);
}

TEST_F(Reader, ProcFilesOfSizeZeroAreReadWhole) {
  const auto r = read_file(std::filesystem::path("/proc/self/status"), ReadLimits{});
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r.text.find("Pid:"), std::string::npos);
}

// Unreadable is not absent: run as another user (root reads anything) where we are root.
TEST_F(Reader, UnreadableIsToldApartFromMissing) {
  test::write_file(dir_ / "etc/os-release", "ID=x\n");
  ::chmod((dir_ / "etc/os-release").c_str(), 0);
  ::chmod(dir_.path().c_str(), 0755);
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    const HostFs fs(dir_.path());
    const auto r = fs.read_file("/etc/os-release");
    const auto m = fs.read_file("/etc/missing");
    const std::string msg = describe_unread(r) + "|" + describe_unread(m);
    (void)!::write(pipefd[1], msg.data(), msg.size());
    ::_exit(0);
  }
  ::close(pipefd[1]);
  char buf[512];
  const ssize_t n = ::read(pipefd[0], buf, sizeof buf);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)),
            "is unreadable (Permission denied)|is missing");
}

}  // namespace
}  // namespace cnm
