#include "installer/sha256.h"

#include <fcntl.h>
#include <nettle/sha2.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace cnm {
namespace {

// Nettle's SHA-256: no configuration file read and no module loaded at run time (OpenSSL 3
// reads openssl.cnf, which may name providers to dlopen: unsafe in a static binary on a host
// whose libcrypto is another build).
class Hasher {
 public:
  Hasher() { sha256_init(&ctx_); }
  void update(const void* p, std::size_t n) {
    sha256_update(&ctx_, n, static_cast<const std::uint8_t*>(p));
  }
  std::string hex() {
    std::uint8_t md[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx_, sizeof md, md);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (const std::uint8_t b : md) {
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
    return out;
  }

 private:
  sha256_ctx ctx_{};
};

}  // namespace

std::string sha256_hex(std::string_view data) {
  Hasher h;
  h.update(data.data(), data.size());
  return h.hex();
}

std::string sha256_fd_hex(int fd, const std::string& shown) {
  Hasher h;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "cannot read " + shown);
    }
    if (n == 0) break;
    h.update(buf, static_cast<std::size_t>(n));
  }
  return h.hex();
}

std::string sha256_file_hex(const std::filesystem::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot read " + p.string());
  try {
    auto hex = sha256_fd_hex(fd, p.string());
    ::close(fd);
    return hex;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

}  // namespace cnm
