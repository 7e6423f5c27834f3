#include "probe/auth_token.h"

#include <stdexcept>
#include <system_error>

#include "common/atomic_file.h"
#include "common/file_read.h"
#include "common/host_fs.h"
#include "common/random_token.h"

namespace cnm::probe {

std::string load_or_create_token(const std::filesystem::path& path) {
  // The one bounded reader: a FIFO, a device (a link to /dev/zero) or anything over 4 KiB is
  // refused with a clear error rather than read (a token is 64 characters).
  auto text = read_whole_file(path, kMaxTokenFileBytes, "auth token", true);
  if (!text) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    const auto token = random_token();
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
