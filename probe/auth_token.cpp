#include "probe/auth_token.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "common/atomic_file.h"
#include "common/file_read.h"
#include "common/host_fs.h"

namespace cnm::probe {
namespace {

void read_urandom(unsigned char* out, std::size_t bytes) {
  const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "/dev/urandom");
  std::size_t got = 0;
  while (got < bytes) {
    const ssize_t n = ::read(fd, out + got, bytes - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::close(fd);
      throw std::system_error(err, std::generic_category(), "/dev/urandom");
    }
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

// getrandom(2) came in Linux 3.17: on older kernels (CentOS/RHEL 7's 3.10) it fails with
// ENOSYS and the bytes come from /dev/urandom, which that kernel seeds at boot.
void random_bytes(unsigned char* out, std::size_t bytes) {
  std::size_t got = 0;
  while (got < bytes) {
    const ssize_t n = ::getrandom(out + got, bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ENOSYS) return read_urandom(out + got, bytes - got);
    if (n < 0) throw std::system_error(errno, std::generic_category(), "getrandom");
    got += static_cast<std::size_t>(n);
  }
}

std::string random_hex(std::size_t bytes) {
  std::array<unsigned char, 64> buf{};
  random_bytes(buf.data(), bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    out += kHex[buf[i] >> 4];
    out += kHex[buf[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string load_or_create_token(const std::filesystem::path& path) {
  // The one bounded reader: a FIFO, a device (a link to /dev/zero) or anything over 4 KiB is
  // refused with a clear error rather than read (a token is 64 characters).
  auto text = read_whole_file(path, kMaxTokenFileBytes, "auth token", true);
  if (!text) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    const auto token = random_hex(32);
    atomic_write(path, token + "\n", 0600);
    return token;
  }
  const std::string token(trim(*text));
  if (token.empty()) throw std::runtime_error("auth token " + path.string() + ": file is empty");
  return token;
}

bool bearer_matches(std::string_view header, std::string_view token) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (token.empty() || header.substr(0, kPrefix.size()) != kPrefix) return false;
  const auto given = header.substr(kPrefix.size());
  if (given.size() != token.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < token.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ token[i]);
  return diff == 0;
}

}  // namespace cnm::probe
