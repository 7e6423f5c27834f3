#include "probe/auth_token.h"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "common/atomic_file.h"
#include "common/file_read.h"
#include "common/host_fs.h"

namespace cnm::probe {
namespace {

std::string random_hex(std::size_t bytes) {
  std::array<unsigned char, 64> buf{};
  std::size_t got = 0;
  while (got < bytes) {
    const ssize_t n = ::getrandom(buf.data() + got, bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    got += static_cast<std::size_t>(n);
  }
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
