#include "installer/sha256.h"

#include <nettle/sha2.h>

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

std::string sha256_file_hex(const std::filesystem::path& p) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(p.c_str(), "rbe"), &std::fclose);
  if (!f) throw std::system_error(errno, std::generic_category(), "cannot read " + p.string());
  Hasher h;
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) h.update(buf, n);
  if (std::ferror(f.get()))
    throw std::system_error(EIO, std::generic_category(), "cannot read " + p.string());
  return h.hex();
}

}  // namespace cnm
