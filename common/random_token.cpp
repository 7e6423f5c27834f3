#include "common/random_token.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>

namespace cnm {
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

std::string hex(const unsigned char* buf, std::size_t bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    out += kHex[buf[i] >> 4];
    out += kHex[buf[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string random_token() {
  std::array<unsigned char, 32> buf{};
  random_bytes(buf.data(), buf.size());
  return hex(buf.data(), buf.size());
}

}  // namespace cnm
